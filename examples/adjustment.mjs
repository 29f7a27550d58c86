// Tally adjustments (调账): one admin key submits a correcting transfer, a second key reviews and approves
// it, then both steps are read back from the audit log. Run a server with two API keys, e.g.
//   npx tally keys new --id ops-alice --scopes post,admin --file keys.json   (prints the maker's secret)
//   npx tally keys new --id ops-bob --scopes read,admin --file keys.json     (prints the checker's secret)
//   npm start -- --keys keys.json
// then `TALLY_MAKER_KEY=<alice's secret> TALLY_CHECKER_KEY=<bob's secret> node examples/adjustment.mjs`.

import { connect, formatAmount, newId, parseAmount } from 'tally-ledger/client';

const url = process.env.TALLY_URL ?? 'ws://127.0.0.1:3000';
const CNY = 156;
const maker = await connect({ url, apiKey: process.env.TALLY_MAKER_KEY });
const checker = await connect({ url, apiKey: process.env.TALLY_CHECKER_KEY });
try {
  const merchant = newId();
  const customer = maker.newColocatedId(merchant); // same shard: the credit shows at once
  // Codes the default chart maps: 3 merchant settlement account, 1 customer basic account.
  await maker.createAccounts([
    { id: merchant, ledger: CNY, code: 3 },
    { id: customer, ledger: CNY, code: 1 },
  ]);

  // The maker proposes a refund. Nothing posts until another key approves it.
  const adjustment = await maker.submitAdjustment({
    reason: 'order 42 was charged twice: refund the second charge',
    transfers: [{ id: newId(), debitAccountId: merchant, creditAccountId: customer, amount: parseAmount('12.34', 2), ledger: CNY, code: 1 }],
  });
  console.log(`submitted: ${adjustment.status}, ${adjustment.transferCount} transfer`);

  // The maker's own approval is refused: maker–checker.
  await maker.approveAdjustment(adjustment.id).catch((error) => console.log(`maker approves: ${error.code}`));

  // The checker reads exactly what would post, then approves: the transfers post now, as one request.
  const review = await checker.getAdjustment(adjustment.id);
  console.log(`checker reviews: ${review.transfers.map((t) => formatAmount(t.amount, 2)).join(', ')} CNY, "${review.reason}"`);
  const approved = await checker.approveAdjustment(adjustment.id);
  console.log(`approved by ${approved.checker}: ${approved.results.map((r) => r.result).join(', ')}`);
  const [account] = await checker.lookupAccounts([customer]);
  console.log(`customer credits: ${formatAmount(account.creditsPosted, 2)} CNY`);

  // Every step, the refused one too, is in the append-only audit log: read in pages, oldest first, until
  // a page comes back short (the end of the log as it stood; it may grow while we read).
  const limit = 1000;
  for (let after = 0; ; ) {
    const page = await checker.getAuditLog({ after, limit });
    for (const record of page) {
      if (record.detail.startsWith(adjustment.id)) console.log(`audit: ${record.keyId} ${record.operationName} ${record.code}`);
    }
    if (page.length < limit) break;
    after = page.at(-1).seq;
  }
} finally {
  await maker.close();
  await checker.close();
}
