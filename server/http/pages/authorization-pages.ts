import type { Client } from '../../auth/clients.js';
import type { PatientChoice } from '../../auth/authorize/patient-picker.js';
import type { Terms } from '../../auth/terms.js';
import type { ServiceNotice } from '../../conformance/notice-vocabulary.js';
import { html, page } from './html.js';
import { noticesSection } from './notices.js';
import { describeScope } from './scope-words.js';

/** The pages of an authorization request. Every form posts back to the request's own address. */

const alert = (message: string | undefined) => message && html`<p class="alert" role="alert">${message}</p>`;

/** The sign-in page, with the message of the day: the current service notices (`notices`, none when absent). */
export function signInPage(
  action: string,
  options: { error?: string; username?: string; providers: { name: string; href: string }[]; notices?: readonly ServiceNotice[] },
): string {
  const providers = options.providers.length
    ? html`<h2>Or sign in with your organization</h2>
<ul>${options.providers.map((provider) => html`<li><a class="button secondary" href="${provider.href}">Sign in with ${provider.name}</a></li>`)}</ul>`
    : '';
  return page(
    'Sign in',
    html`${noticesSection(options.notices ?? [])}${alert(options.error)}
<form method="post" action="${action}/sign-in">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required value="${options.username ?? ''}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
${providers}`,
  );
}

export function termsPage(action: string, terms: Terms): string {
  return page(
    'Terms of Use',
    html`<p>Before you can use CCP Exchange you must accept its Terms of Use (version ${terms.version}).</p>
<div class="terms" tabindex="0" role="region" aria-label="Terms of Use text">${terms.text}</div>
<form method="post" action="${action}/terms">
<input type="hidden" name="version" value="${terms.version}">
<button type="submit" name="answer" value="accept">I accept</button>
<button type="submit" name="answer" value="decline" class="secondary">I do not accept</button>
</form>`,
  );
}

export function patientPage(action: string, options: { name: string; patients: PatientChoice[]; error?: string }): string {
  const list = options.patients.length
    ? html`<form method="post" action="${action}/patient">
<fieldset>
<legend>Patients</legend>
${options.patients.map(
  (patient, index) =>
    html`<label><input type="radio" name="patient" value="${patient.id}" ${index === 0 ? 'required' : ''}> ${patient.name}${patient.birthDate ? html`, born ${patient.birthDate}` : ''}${patient.gender ? html`, ${patient.gender}` : ''}${patient.identifier ? html`, ${patient.identifier}` : ''}</label>`,
)}
</fieldset>
<button type="submit">Choose this patient</button>
</form>`
    : html`<p>No patient found${options.name ? html` for “${options.name}”` : ''}.</p>`;
  return page(
    'Choose a patient',
    html`${alert(options.error)}
<form method="get" action="${action}" role="search">
<label for="name">Patient name</label>
<input type="search" id="name" name="name" value="${options.name}">
<button type="submit" class="secondary">Search</button>
</form>
${list}`,
  );
}

export function approvePage(action: string, client: Client | undefined, scope: string[]): string {
  return page(
    'Allow access?',
    html`<p><strong>${client?.name ?? 'An application'}</strong> asks to:</p>
<ul class="scopes">${scope.map((text) => html`<li>${describeScope(text)} <code>${text}</code></li>`)}</ul>
<form method="post" action="${action}/approve">
<button type="submit" name="answer" value="approve">Allow</button>
<button type="submit" name="answer" value="deny" class="secondary">Deny</button>
</form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, html`<p role="alert">${message}</p>`);
}
