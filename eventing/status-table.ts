import { safeText, type CeremonyStatus, type ShareStatus } from './status-record.ts';

const headings = ['Share', 'Custodian', 'State', 'Detail'];

/**
 * A ceremony's status as a plain text table for a terminal: share, custodian, state and detail,
 * under a line naming the ceremony and, when voided, a line with the reason. No trailing newline.
 */
export function formatCeremonyStatus(status: CeremonyStatus): string {
  const lines = [`Ceremony ${safeText(status.ceremonyId)}`];
  if (status.voided) lines.push(`Voided: ${safeText(status.voidReason ?? 'no reason recorded')}`);
  if (status.partial) lines.push('Reading stopped at its time limit: later events may be missing.');
  if (status.shares.length === 0) {
    lines.push('No share of this ceremony is recorded.');
    return lines.join('\n');
  }

  const rows = status.shares.map((share) => [
    String(share.shareNumber),
    custodianText(share.custodian),
    share.state,
    detail(share),
  ]);
  const widths = headings.map((heading, column) =>
    Math.max(heading.length, ...rows.map((row) => row[column]!.length)),
  );
  const table = [headings, ...rows].map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
  return [...lines, '', ...table].join('\n');
}

function custodianText(custodian: ShareStatus['custodian']): string {
  if (!custodian) return '(unknown)';
  return safeText(`${custodian.name} <${custodian.email}>`);
}

function detail(share: ShareStatus): string {
  switch (share.state) {
    case 'issued':
      return 'waiting for delivery';
    case 'delivered':
      return share.messageId ? `message ${safeText(share.messageId)}` : '';
    case 'failed':
      return safeText(share.reason ?? 'no reason recorded');
    case 'dead-lettered': {
      const reason = safeText(share.reason ?? 'no reason recorded');
      return share.attempts ? `${reason} (${share.attempts} attempts)` : reason;
    }
    case 'voided':
      return 'not delivered before the ceremony was voided';
  }
}
