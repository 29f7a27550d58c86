// A WeChat Pay trade bill (微信支付交易账单) written as WeChat writes one, for reconciliation tests (issue #17): the 27
// columns, back-ticked values, the detail rows, then the summary header and its row with the count and sums. The
// pieces (header, one row's line, the summary) are exported apart so that bench/recon.ts streams a bill of a million
// rows line by line instead of holding it as one string.

export const billHeader =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';

export interface BillRow {
  serial: string;
  order: string;
  /** REVOKED (撤销): the order as stated, its amount included, with a status saying no money moved. */
  status: 'SUCCESS' | 'REFUND' | 'REVOKED';
  /** Fen. */
  settled: number;
  refund?: number;
  /** 'HH:MM:SS' local (Asia/Shanghai); default noon. */
  time?: string;
}

/** Fen as yuan text, exactly. */
export const yuan = (fen: number): string => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;

/** What a row adds to the summary's 应结订单总金额 (a refund row states its order's amount only as 0). */
export const billSettledFen = (row: BillRow): number => (row.status === 'REFUND' ? 0 : row.settled);

/** One detail row of the bill of `day` ('YYYY-MM-DD') of merchant 1601959334, without its line end. */
export function billLine(day: string, row: BillRow): string {
  const settled = yuan(billSettledFen(row));
  const cells = [
    `${day} ${row.time ?? '12:00:00'}`, 'wx81be3101902f7cb2', '1601959334', '0', '', row.serial, row.order, 'ofyak5qR_user', 'NATIVE', row.status, 'OTHERS', 'CNY',
    settled, '0.00', row.refund === undefined ? '0' : `5030${row.serial}`, row.refund === undefined ? '0' : `R${row.order}`,
    yuan(row.refund ?? 0), '0.00', '', '', 'goods', '', '0.00000', '0.60%', settled, yuan(row.refund ?? 0), '',
  ];
  return cells.map((cell) => `\`${cell}`).join(',');
}

/** The summary header and row (without a line end after the row) of a bill of `count` rows and these sums (fen). */
export function billSummary(count: number, settledFen: number, refundFen: number): string {
  const settled = yuan(settledFen);
  const refunds = yuan(refundFen);
  return [
    '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
    [String(count), settled, refunds, '0.00', '0.00000', settled, refunds].map((cell) => `\`${cell}`).join(','),
  ].join('\n');
}

/** The bill of `day` ('YYYY-MM-DD') of merchant 1601959334. */
export function tradeBill(day: string, rows: readonly BillRow[]): string {
  const settled = rows.reduce((total, row) => total + billSettledFen(row), 0);
  const refunds = rows.reduce((total, row) => total + (row.refund ?? 0), 0);
  return [billHeader, ...rows.map((row) => billLine(day, row)), billSummary(rows.length, settled, refunds), ''].join('\n');
}
