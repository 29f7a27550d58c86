// The reconciliation bench's one channel (issue #17): a WeChat Pay merchant whose clearing account (ledger 156, CNY)
// takes every payment and refund of the day, keyed by the merchant order number as referenceOf derives it.

export const channelName = 'wechat-bench';
export const ledger = 156;
export const paymentCode = 1001;
export const refundCode = 1002;

/** The channels file `tally serve --recon-channels` reads, for a clearing account `clearing`. */
export function channelsFile(clearing: bigint): unknown {
  return {
    version: 1,
    channels: [{
      name: channelName, format: 'wechatpay-tradebill', statementAccount: '1601959334', currency: 'CNY', ledger, timeZone: 'Asia/Shanghai',
      accounts: { clearing: String(clearing) }, keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }],
      ledgerCodes: { payment: [paymentCode], refund: [refundCode], fee: [] }, pendingDaysMax: 3,
    }],
  };
}
