// A WeChat Pay trade bill (微信支付交易账单) written as WeChat writes one, for reconciliation tests (issue #17): the 27
// columns, back-ticked values, the detail rows, then the summary header and its row with the count and sums.

const header =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';

export interface BillRow {
  serial: string;
  order: string;
  status: 'SUCCESS' | 'REFUND';
  /** Fen. */
  settled: number;
  refund?: number;
  /** 'HH:MM:SS' local (Asia/Shanghai); default noon. */
  time?: string;
}

/** Fen as yuan text, exactly. */
export const yuan = (fen: number): string => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;

/** The bill of `day` ('YYYY-MM-DD') of merchant 1601959334. */
export function tradeBill(day: string, rows: readonly BillRow[]): string {
  const cells = (row: BillRow): string[] => [
    `${day} ${row.time ?? '12:00:00'}`, 'wx81be3101902f7cb2', '1601959334', '0', '', row.serial, row.order, 'ofyak5qR_user', 'NATIVE', row.status, 'OTHERS', 'CNY',
    yuan(row.status === 'SUCCESS' ? row.settled : 0), '0.00', row.refund === undefined ? '0' : `5030${row.serial}`, row.refund === undefined ? '0' : `R${row.order}`,
    yuan(row.refund ?? 0), '0.00', '', '', 'goods', '', '0.00000', '0.60%', yuan(row.status === 'SUCCESS' ? row.settled : 0), yuan(row.refund ?? 0), '',
  ];
  const sum = (pick: (row: BillRow) => number): string => yuan(rows.reduce((total, row) => total + pick(row), 0));
  const settled = sum((row) => (row.status === 'SUCCESS' ? row.settled : 0));
  const refunds = sum((row) => row.refund ?? 0);
  return [
    header,
    ...rows.map((row) => cells(row).map((cell) => `\`${cell}`).join(',')),
    '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
    [String(rows.length), settled, refunds, '0.00', '0.00000', settled, refunds].map((cell) => `\`${cell}`).join(','),
    '',
  ].join('\n');
}
