// A WeChat Pay trade bill (微信支付交易账单) written from movements (src/recon/wechat-bill-reader.ts and
// core/recon/wechat-bill.ts read and check it): the 27 columns of test/support/wechat-bill.ts, every value after
// WeChat's back-tick, a row per movement — a payment SUCCESS with its 应结订单金额, a refund REFUND with its 退款金额
// and 微信退款单号 (应结订单金额 0.00), a failed payment REVOKED — the fee at WeChat's five decimals (a refund's, which
// WeChat pays back, negative), then the summary header and row: the count and the sum of every summed column.
// A bill has no pending status: the writer refuses a pending movement.

import { billHeader } from '../wechat-bill.js';
import { decimalText, requireThat, scaleOf, type Movement, type ReadsAs, type StatementSpec, type WrittenFile } from './movement.js';

const summaryHeader = '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';

/** The money cells of a row in minor units, signed as WeChat writes them. */
interface RowMoney {
  settled: bigint;
  refund: bigint;
  fee: bigint;
  ordered: bigint;
  refundAsked: bigint;
}

function moneyOf(m: Movement): RowMoney {
  const refund = m.type === 'refund';
  requireThat(m.status !== 'pending', 'a WeChat bill has no pending status');
  requireThat(refund === (m.direction === 'debit'), 'a WeChat bill states money out only as a refund');
  requireThat(!refund || m.status === 'success', 'a WeChat bill states no failed refund');
  return refund
    ? { settled: 0n, refund: m.amountMinor, fee: -m.feeMinor, ordered: 0n, refundAsked: m.amountMinor }
    : { settled: m.amountMinor, refund: 0n, fee: m.feeMinor, ordered: m.amountMinor, refundAsked: 0n };
}

const status = (m: Movement): string => (m.type === 'refund' ? 'REFUND' : m.status === 'success' ? 'SUCCESS' : 'REVOKED');

function rowLine(m: Movement, spec: StatementSpec): string {
  const scale = scaleOf(spec.currency);
  const money = moneyOf(m);
  const yuan = (minor: bigint) => decimalText(minor, scale);
  const refund = m.type === 'refund';
  const cells = [
    `${spec.date} ${m.time}`, 'wx81be3101902f7cb2', spec.account, '0', '', m.serial, m.reference, 'ofyak5qR_user', 'NATIVE', status(m), 'OTHERS', spec.currency,
    yuan(money.settled), '0.00', refund ? m.refundNo : '0', refund ? `R${m.reference}` : '0', yuan(money.refund), '0.00', refund ? 'ORIGINAL' : '', refund ? 'SUCCESS' : '',
    'goods', '', `${yuan(money.fee)}000`, '0.60%', yuan(money.ordered), yuan(money.refundAsked), '',
  ];
  return cells.map((cell) => `\`${cell}`).join(',');
}

function summaryLine(movements: readonly Movement[], spec: StatementSpec): string {
  const scale = scaleOf(spec.currency);
  const total = (pick: (money: RowMoney) => bigint) => decimalText(movements.reduce((sum, m) => sum + pick(moneyOf(m)), 0n), scale);
  const cells = [String(movements.length), total((x) => x.settled), total((x) => x.refund), '0.00', `${total((x) => x.fee)}000`, total((x) => x.ordered), total((x) => x.refundAsked)];
  return cells.map((cell) => `\`${cell}`).join(',');
}

export interface WechatOptions {
  /** The UTF-8 byte order mark before the header (bills saved by a spreadsheet). */
  bom: boolean;
}

export function writeWechatBill(movements: readonly Movement[], spec: StatementSpec, options: WechatOptions): WrittenFile[] {
  const text = [`${options.bom ? '\uFEFF' : ''}${billHeader}`, ...movements.map((m) => rowLine(m, spec)), summaryHeader, summaryLine(movements, spec), ''].join('\r\n');
  return [{ name: `tradebill_${spec.account}_${spec.date}.csv`, bytes: Buffer.from(text, 'utf8') }];
}

/** What the bill's mapping makes of a row: SUCCESS a payment, REFUND its 退款金额 out, REVOKED failed; fees by their size. */
export function wechatReadsAs(m: Movement): ReadsAs {
  const refund = m.type === 'refund';
  return {
    bookingDate: 0, valueDate: 0,
    merchantOrderNo: m.reference, channelSerialNo: m.serial, refundNo: refund ? m.refundNo : '', amountMinor: m.amountMinor, direction: m.direction,
    feeMinor: m.feeMinor, status: refund ? 'refund' : m.status, type: refund ? 'refund' : 'payment',
  };
}
