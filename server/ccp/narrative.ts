import type { Narrative, Period } from 'fhir/r4';

/** What a CCP's narrative says, in the order it says it: the patient's goals come first. */
export interface PlanSummary {
  goals: string[];
  concerns: string[];
  careTeams: string[];
  activities: string[];
  period?: Period;
  status: string;
}

/**
 * The plan's narrative as R4 XHTML: one div in the XHTML namespace holding only elements the narrative rules
 * allow (h3, ul, li, p), no attributes, every piece of content escaped.
 */
export function planNarrative(summary: PlanSummary): Narrative {
  const parts = [
    section("Patient's goals", summary.goals),
    section('Health concerns', summary.concerns),
    section('Care team', summary.careTeams),
    section('Activities', summary.activities),
    summary.period && (summary.period.start || summary.period.end) ? `<p>Period: ${escapeXml(periodText(summary.period))}</p>` : '',
    `<p>Status: ${escapeXml(summary.status)}</p>`,
  ];
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${parts.join('')}</div>` };
}

function section(heading: string, items: string[]): string {
  const body = items.length ? `<ul>${items.map((item) => `<li>${escapeXml(item)}</li>`).join('')}</ul>` : '<p>None recorded.</p>';
  return `<h3>${escapeXml(heading)}</h3>${body}`;
}

function periodText({ start, end }: Period): string {
  if (start && end) return `${start} to ${end}`;
  return start ? `from ${start}` : `until ${end}`;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
