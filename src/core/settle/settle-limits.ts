// Every bound of clearing and settlement (issue #18), named with `Max` last, each with its reason. A value past a
// limit is refused with a message naming the limit, never truncated. These sit beside the code that uses them
// because core/limits.ts belongs to the layer's base; they may move there when the settlement layer settles.

/** Instructions in one strategy: real fee and settlement rules take a dozen; the bound keeps checking linear. */
export const strategyInstructionsMax = 256;

/** Nesting depth of one expression: parsing, checking and evaluating recurse, so the depth must be bounded. */
export const expressionDepthMax = 32;

/** Characters of a decimal literal or an input given as text: 30 significant digits is more than any money. */
export const decimalTextCharsMax = 40;

/** Characters of a variable name or strategy id: names are read by people in traces and audit logs. */
export const nameCharsMax = 64;

/** Inputs or outputs declared by one strategy. */
export const strategyVariablesMax = 64;

/**
 * Bits of a numerator or denominator during evaluation. Values are exact fractions, so a long chain of divisions
 * could grow them without end; 1024 bits (about 308 digits) is far past any real fee rule and still cheap.
 */
export const fractionBitsMax = 1024;

/** The largest |scale| of round(value, scale, mode): 10^18 covers every currency's minor units and every rate. */
export const roundScaleMax = 18;

/** Versions of one strategy kept in force-order: a rule changed weekly for twenty years stays below it. */
export const strategyVersionsMax = 1024;

/** Parts of one allocation (fixed parts, shares and the rest): 分账 splits among tens of receivers, not thousands. */
export const allocationPartsMax = 1000;

/** Fraction digits of a share written as a decimal ratio ('0.333333'): past 12 it is noise, not a contract term. */
export const shareScaleMax = 12;

/** Tranches of one waterfall. */
export const waterfallTranchesMax = 64;

/** Days in Dn or T+n: a settlement cycle longer than a year is a typo. */
export const settlementCycleDaysMax = 366;

/**
 * Consecutive non-working days a calendar may hold. China's longest break (Spring Festival) is 9 days; a search
 * for the next working day that passes 31 days means the calendar data is wrong, so it stops and says so.
 */
export const nonWorkingRunDaysMax = 31;

/** Dates listed in one working calendar (holidays plus adjusted working days): about 40 a year for 50 years. */
export const calendarDatesMax = 4096;

/** Characters of an order or refund id: channels allow up to 64 (WeChat Pay's out_refund_no, Alipay's out_request_no). */
export const orderIdCharsMax = 64;

/**
 * Items in one channel's cleared business day. The largest channel's day is a few million orders; ten million
 * keeps one clearing's lines within a few GiB while leaving room for a peak day.
 */
export const clearingItemsMax = 10_000_000;

/** Channel days one settlement run reads: 20 channels × 200 open days is far past a real backlog. */
export const runClearingsMax = 4096;

/** Merchant–channel pairs one run settles: every merchant of a large acquirer on a few channels each. */
export const runMerchantChannelsMax = 1_000_000;

/** Days a rolling reserve is held: a reserve held longer than a year is a typo (contracts say 90 or 180 days). */
export const reserveDaysMax = 366;

/**
 * Open reserve holds carried from run to run: one per merchant–channel per run while held, so 10^5 pairs held for
 * 180 days is 1.8·10^7; this bound is twice that rounded to a power of two.
 */
export const reserveHoldsOpenMax = 1 << 25;
