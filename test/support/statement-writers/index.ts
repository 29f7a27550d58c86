// Statement writers for every format reconciliation reads (issue #17): movements of a channel's day → the bytes the
// channel sends. One module per format family; see movement.ts for what a movement is.

export * from './movement.js';
export { writeAlipayBill, alipayReadsAs, type AlipayOptions } from './alipay.js';
export { writeBai2, bai2ReadsAs, type Bai2Options } from './bai2.js';
export { writeCamt, camtReadsAs, type CamtFormat, type CamtOptions } from './camt.js';
export { writeCsv, csvReadsAs, csvMappingOf, type CsvOptions } from './csv.js';
export { writeOfx, ofxReadsAs, type OfxOptions } from './ofx.js';
export { writeMt940, writeMt942, swiftReadsAs, type SwiftOptions } from './swift.js';
export { writeWechatBill, wechatReadsAs, type WechatOptions } from './wechat.js';
