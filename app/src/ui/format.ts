/** Dates as the server writes them (`YYYY-MM-DD`, unambiguous in every locale); instants in the viewer's time. */
export function formatDate(value: string | undefined): string {
  if (!value) return '';
  return /^\d{4}-\d{2}-\d{2}$/.test(value) || /^\d{4}(-\d{2})?$/.test(value) ? value : formatDateTime(value);
}

export function formatDateTime(value: string | undefined): string {
  if (!value) return '';
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return value;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

export function formatPeriod(period: { start?: string; end?: string }): string {
  if (period.start && period.end) return `${formatDate(period.start)} to ${formatDate(period.end)}`;
  if (period.start) return `since ${formatDate(period.start)}`;
  if (period.end) return `until ${formatDate(period.end)}`;
  return 'not stated';
}
