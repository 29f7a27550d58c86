// An Alipay trade bill (支付宝业务明细 and its 汇总) written as Alipay writes one, for reconciliation tests (issue
// #17): `#` header lines, the list markers, the 25 columns with values padded by a tab, the footer's totals, the
// export time; the 汇总 with its 合计 row. Text here; tests turn it into GB18030 bytes (gb18030.ts) and a zip
// (zip-writer.ts).

export const alipayAccount = '20881234567890120156';

export const alipayColumns = [
  '支付宝交易号', '商户订单号', '业务类型', '商品名称', '创建时间', '完成时间', '门店编号', '门店名称', '操作员', '终端号', '对方账户',
  '订单金额（元）', '商家实收（元）', '支付宝红包（元）', '集分宝（元）', '支付宝优惠（元）', '商家优惠（元）', '券核销金额（元）', '券名称',
  '商家红包消费金额（元）', '卡消费金额（元）', '退款批次号/请求号', '服务费（元）', '分润（元）', '备注',
];

export interface AlipayRowInput {
  serial: string;
  order: string;
  /** 业务类型: 交易 or 退款 (anything else is a type the footer does not total). */
  kind: string;
  /** 商家实收 in fen, signed as Alipay writes it (a refund negative). */
  fen: number;
  /** 服务费 in fen, signed as written (default 0). */
  feeFen?: number;
  /** 'HH:MM:SS' on the bill's day; completed '' = an order without its completion time. */
  created: string;
  completed?: string;
  refundNo?: string;
}

/** Signed fen as yuan text, exactly (`-35.80`). */
export const yuanOf = (fen: number): string => `${fen < 0 ? '-' : ''}${Math.floor(Math.abs(fen) / 100)}.${String(Math.abs(fen) % 100).padStart(2, '0')}`;

const day = '2025-12-04';
const header = ['#账号：[20881234567890120156]', '#起始日期：[2025年12月04日 00:00:00]   终止日期：[2025年12月05日 00:00:00]'];
export const detailsStart = '#-----------------------------------------业务明细列表----------------------------------------';
export const detailsEnd = '#-----------------------------------------业务明细列表结束------------------------------------';
const summaryStart = '#-----------------------------------------业务汇总列表----------------------------------------';
const summaryEnd = '#----------------------------------------业务汇总列表结束-------------------------------------';
const exported = '#导出时间：[2025年12月05日 06:27:10]';

export function alipayRowLine(row: AlipayRowInput): string {
  const completed = row.completed === undefined ? `${day} ${row.created}` : row.completed === '' ? '' : `${day} ${row.completed}`;
  const cells = [
    `${row.serial}\t`, `${row.order}\t`, `${row.kind}\t`, '商品\t', `${day} ${row.created}`, completed, '\t', '\t', '\t', '\t', '*庚辰(182****01)\t',
    yuanOf(row.fen), yuanOf(row.fen), '0.00', '0.00', '0.00', '0.00', '0.00', '', '0.00\t', '0.00', `${row.refundNo ?? ''}\t`, yuanOf(row.feeFen ?? 0), '0.00', '',
  ];
  return cells.join(',');
}

const sumOf = (rows: readonly AlipayRowInput[], pick: (row: AlipayRowInput) => number): number => rows.reduce((total, row) => total + pick(row), 0);

/** The footer's totals lines as Alipay writes them, from the rows (`adjustFen` added to the 交易 sum, to break it). */
export function alipayFooter(rows: readonly AlipayRowInput[], adjustFen = 0): string[] {
  const trades = rows.filter((row) => row.kind === '交易');
  const refunds = rows.filter((row) => row.kind === '退款');
  return [
    `#交易合计：${trades.length}笔，商家实收共${yuanOf(sumOf(trades, (row) => row.fen) + adjustFen)}元，商家优惠共0.00元`,
    `#退款合计：${refunds.length}笔，商家实收退款共${yuanOf(sumOf(refunds, (row) => row.fen))}元，商家优惠退款共0.00元`,
  ];
}

/** The 业务明细 file's text (CRLF, as Alipay writes it). */
export function alipayDetails(rows: readonly AlipayRowInput[], options: { ended?: boolean; adjustFen?: number } = {}): string {
  const list = ['#支付宝业务明细查询', ...header, detailsStart, alipayColumns.join(','), ...rows.map(alipayRowLine)];
  const tail = options.ended === false ? [] : [detailsEnd, ...alipayFooter(rows, options.adjustFen), exported];
  return [...list, ...tail, ''].join('\r\n');
}

/** The 业务明细(汇总) file's text: one store row and the 合计 row. */
export function alipaySummary(rows: readonly AlipayRowInput[], adjustFen = 0): string {
  const columns = ['门店编号', '门店名称', '交易订单总笔数', '退款订单总笔数', '订单金额（元）', '商家实收（元）', '支付宝优惠（元）', '商家优惠（元）', '卡消费金额（元）', '服务费（元）', '分润（元）', '实收净额（元）'];
  const received = sumOf(rows, (row) => row.fen) + adjustFen;
  const fees = sumOf(rows, (row) => row.feeFen ?? 0);
  const counts = [String(rows.filter((row) => row.kind === '交易').length), String(rows.filter((row) => row.kind === '退款').length)];
  const values = [...counts, yuanOf(received), yuanOf(received), '0.00', '0.00', '0.00', yuanOf(fees), '0.00', yuanOf(received + fees)];
  return ['#支付宝业务汇总查询', ...header, summaryStart, columns.join(','), ['\t', '\t', ...values].join(','), ['合计', '', ...values].join(','), summaryEnd, exported, ''].join('\r\n');
}

export const alipayDetailsName = `${alipayAccount}_20251204_业务明细.csv`;
export const alipaySummaryName = `${alipayAccount}_20251204_业务明细(汇总).csv`;
