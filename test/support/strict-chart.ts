// The default chart without its other-codes leaf (22419901): a chart that books only the codes it names, so that
// postings of any other code fail the day report's `unmapped` check (the strict rule a custom chart may choose).

import { defaultChartJson, parseChart, type ChartOfAccounts, type SubjectJson } from '../../src/core/books/chart-of-accounts.js';

function withoutOther(subjects: readonly SubjectJson[]): SubjectJson[] {
  return subjects
    .filter((s) => s.otherAccountCodes !== true)
    .map((s) => (s.children === undefined ? s : { ...s, children: withoutOther(s.children) }))
    .filter((s) => s.children === undefined || s.children.length > 0 || s.accountCodes !== undefined);
}

export function strictDefaultChart(): ChartOfAccounts {
  return parseChart({ ...defaultChartJson, subjects: withoutOther(defaultChartJson.subjects) });
}
