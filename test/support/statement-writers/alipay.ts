// An Alipay trade bill (支付宝业务明细 and its 汇总) written from movements, as the zip of GB18030 CSVs Alipay sends
// (src/recon/alipay-bill-reader.ts and core/recon/alipay-bill.ts read and check it): `#` header lines with the
// account and the one-day period, the list between its markers with values padded by a tab, a row per movement —
// 交易 with 商家实收 positive and its 服务费 negative, 退款 with 商家实收 negative and the fee returned positive — the
// footer's 交易合计 and 退款合计, and the 汇总 file's 合计 row (counts and every money column). The bill states only
// done trades and refunds: the writer refuses a pending or a failed movement.

import { alipayColumns, detailsEnd, detailsStart } from '../alipay-bill.js';
import { gb18030Bytes } from '../gb18030.js';
import { zipOf } from '../zip-writer.js';
import { dateParts, decimalText, requireThat, sumOf, type Movement, type ReadsAs, type StatementSpec, type WrittenFile } from './movement.js';

export interface AlipayOptions {
  /** Entry names in GBK without the UTF-8 flag (as Alipay writes them), else UTF-8 with the flag. */
  gbkNames: boolean;
  /** The 汇总 file beside the details. */
  withSummary: boolean;
}

const summaryStart = '#-----------------------------------------业务汇总列表----------------------------------------';
const summaryEnd = '#----------------------------------------业务汇总列表结束-------------------------------------';
const summaryColumns = ['门店编号', '门店名称', '交易订单总笔数', '退款订单总笔数', '订单金额（元）', '商家实收（元）', '支付宝优惠（元）', '商家优惠（元）', '卡消费金额（元）', '服务费（元）', '分润（元）', '实收净额（元）'];

const yuan = (minor: bigint): string => decimalText(minor, 2);

/** 商家实收 and 服务费 as Alipay signs them. */
function moneyOf(m: Movement): { received: bigint; fee: bigint } {
  requireThat(m.status === 'success', 'an Alipay bill states done trades and refunds only');
  requireThat((m.type === 'refund') === (m.direction === 'debit'), 'an Alipay bill states money out only as a refund');
  return m.type === 'refund' ? { received: -m.amountMinor, fee: m.feeMinor } : { received: m.amountMinor, fee: -m.feeMinor };
}

/** `2025年12月04日 00:00:00` of a date, and of the day after it (the bill's period ends at the next midnight). */
function periodOf(date: string): [string, string] {
  const { year, month, day } = dateParts(date);
  const next = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day) + 1));
  const two = (n: number) => String(n).padStart(2, '0');
  return [`${year}年${month}月${day}日 00:00:00`, `${next.getUTCFullYear()}年${two(next.getUTCMonth() + 1)}月${two(next.getUTCDate())}日 00:00:00`];
}

function headerLines(title: string, spec: StatementSpec): string[] {
  const [start, end] = periodOf(spec.date);
  return [title, `#账号：[${spec.account}]`, `#起始日期：[${start}]   终止日期：[${end}]`];
}

function rowLine(m: Movement, spec: StatementSpec): string {
  const { received, fee } = moneyOf(m);
  const at = `${spec.date} ${m.time}`;
  const cells = [
    `${m.serial}\t`, `${m.reference}\t`, `${m.type === 'refund' ? '退款' : '交易'}\t`, '商品\t', at, at, '\t', '\t', '\t', '\t', '*庚辰(182****01)\t',
    yuan(received), yuan(received), '0.00', '0.00', '0.00', '0.00', '0.00', '', '0.00\t', '0.00', `${m.type === 'refund' ? m.refundNo : ''}\t`, yuan(fee), '0.00', '',
  ];
  return cells.join(',');
}

function details(movements: readonly Movement[], spec: StatementSpec): string {
  const trades = movements.filter((m) => m.type === 'payment');
  const refunds = movements.filter((m) => m.type === 'refund');
  const received = (list: readonly Movement[]) => yuan(sumOf(list, (m) => moneyOf(m).received));
  return [
    ...headerLines('#支付宝业务明细查询', spec), detailsStart, alipayColumns.join(','), ...movements.map((m) => rowLine(m, spec)), detailsEnd,
    `#交易合计：${trades.length}笔，商家实收共${received(trades)}元，商家优惠共0.00元`,
    `#退款合计：${refunds.length}笔，商家实收退款共${received(refunds)}元，商家优惠退款共0.00元`,
    `#导出时间：[${periodOf(spec.date)[1]}]`, '',
  ].join('\r\n');
}

function summary(movements: readonly Movement[], spec: StatementSpec): string {
  const received = sumOf(movements, (m) => moneyOf(m).received);
  const fees = sumOf(movements, (m) => moneyOf(m).fee);
  const counts = [String(movements.filter((m) => m.type === 'payment').length), String(movements.filter((m) => m.type === 'refund').length)];
  const values = [...counts, yuan(received), yuan(received), '0.00', '0.00', '0.00', yuan(fees), '0.00', yuan(received + fees)];
  return [...headerLines('#支付宝业务汇总查询', spec), summaryStart, summaryColumns.join(','), ['\t', '\t', ...values].join(','), ['合计', '', ...values].join(','), summaryEnd, ''].join('\r\n');
}

export function writeAlipayBill(movements: readonly Movement[], spec: StatementSpec, options: AlipayOptions): WrittenFile[] {
  const day = spec.date.replace(/-/g, '');
  const name = (suffix: string) => (options.gbkNames ? gb18030Bytes(`${spec.account}_${day}_${suffix}`) : `${spec.account}_${day}_${suffix}`);
  const entries = [{ name: name('业务明细.csv'), data: gb18030Bytes(details(movements, spec)) }];
  if (options.withSummary) entries.push({ name: name('业务明细(汇总).csv'), data: gb18030Bytes(summary(movements, spec)) });
  return [{ name: `${spec.account}_${day}.csv.zip`, bytes: zipOf(entries) }];
}

/** What the bill's mapping makes of a row: 交易 a payment in, 退款 a refund out; the fee by its size. */
export function alipayReadsAs(m: Movement): ReadsAs {
  const refund = m.type === 'refund';
  return {
    bookingDate: 0, valueDate: 0,
    merchantOrderNo: m.reference, channelSerialNo: m.serial, refundNo: refund ? m.refundNo : '', amountMinor: m.amountMinor, direction: m.direction,
    feeMinor: m.feeMinor, status: refund ? 'refund' : 'success', type: refund ? 'refund' : 'payment',
  };
}
