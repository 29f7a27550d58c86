// A statement sample written for the tests (issue #17): a German bank's CSV export with a preamble (holding a stray
// quote, which must not be parsed), decimal comma, thousands separator, debit and credit columns, quoted cells, and a
// closing-balance footer (-10.764,94 = the three movements from an opening balance of 0).

import type { CsvTemplate } from '../../src/core/recon/channel-config.js';

export const giroTemplate: CsvTemplate = {
  separator: ';', quote: '"', decimalMark: ',', thousandsSeparator: '.', headerRow: 3, footerStartsWith: ['Kontostand'], valuePrefix: '',
  amount: { mode: 'debitCredit', debitColumn: 'Soll', creditColumn: 'Haben' },
};

export const giro = [
  'Umsätze Girokonto;"DE89370400440532013000',
  'Zeitraum: 01.02.2024 - 29.02.2024',
  'Buchungstag;Valuta;Verwendungszweck;Empfänger/Zahlungspflichtiger;Soll;Haben;Währung',
  '01.02.2024;02.02.2024;ORDER-1001;"Müller; Hans";;1.234,56;EUR',
  '05.02.2024;05.02.2024;Miete Februar;Hausverwaltung GmbH;-12.000,00;;EUR',
  '29.02.2024;01.03.2024;ORDER-1002;"ACME ""Shop""";;0,50;EUR',
  '',
  'Kontostand;29.02.2024;;;;-10.764,94;EUR',
  '',
].join('\r\n');
