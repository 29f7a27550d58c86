// Tally quickstart: open two accounts, move 12.34 CNY from one to the other, print the balances.
// Run a server first (`npm start` in this repository), then `node examples/quickstart.mjs`
// (or TALLY_URL=ws://HOST:PORT node examples/quickstart.mjs; TALLY_API_KEY=<secret> for a server run with --keys).
//
// bob's id is drawn on alice's shard, so the credit is visible the moment the transfer is
// acknowledged (across shards it posts too, and the credit lands a few milliseconds later).

import { connect, formatAmount, newId, parseAmount } from 'tally-ledger/client';

const url = process.env.TALLY_URL ?? 'ws://127.0.0.1:3000';
const CNY = 156; // ledger = ISO 4217 numeric code of the currency
const scale = 2; // CNY has 2 decimal places: amounts travel as integer fen
// Account type: a code the chart of accounts maps to a subject (--chart; in the default chart 1 is a customer basic
// account, 3 a merchant settlement account). The day report books each account by it; a code the chart does not
// name lands under "other accounts" (22419901) until you map it.
const codeCustomer = 1;
const codePayment = 1; // business type of the transfer, yours to choose

const client = await connect({ url, apiKey: process.env.TALLY_API_KEY });
try {
  const alice = newId();
  const bob = client.newColocatedId(alice);

  const accounts = await client.createAccounts([
    { id: alice, ledger: CNY, code: codeCustomer },
    { id: bob, ledger: CNY, code: codeCustomer },
  ]);
  console.log('create accounts:', accounts.map((r) => r.result).join(', '));

  const amount = parseAmount('12.34', scale);
  const transfers = await client.createTransfers([
    { id: newId(), debitAccountId: alice, creditAccountId: bob, amount, ledger: CNY, code: codePayment },
  ]);
  console.log('create transfer:', transfers.map((r) => r.result).join(', '));

  for (const account of await client.lookupAccounts([alice, bob])) {
    const balance = account.creditsPosted - account.debitsPosted;
    const name = account.id === alice ? 'alice' : 'bob';
    console.log(`${name}: debits ${formatAmount(account.debitsPosted, scale)}, credits ${formatAmount(account.creditsPosted, scale)}, balance ${formatAmount(balance, scale)} CNY`);
  }

  // Results are data: anything but `ok` is a refusal you handle, not an exception.
  if ([...accounts, ...transfers].some((r) => r.result !== 'ok')) process.exitCode = 1;
} finally {
  await client.close();
}
