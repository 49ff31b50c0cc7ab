import { useRef, useState } from 'preact/hooks';
import { defaultForm, type FieldErrors, practitionerOf, registrationRequest, type RequestField, type RequestForm } from '../access/request.js';
import { sendRegistration } from '../access/send.js';
import type { Session } from './session.js';
import './request-access.css';

type Sending = { state: 'editing' } | { state: 'sending' } | { state: 'sent' } | { state: 'refused'; message: string };

/**
 * On the no-access screen: the form that asks for the user's organization's access to the patient's plan, on the
 * patient's express consent (`$ccp-register`). It says nothing of whether a plan exists; the hosting
 * organization's coordinators review the request.
 */
export function RequestAccess({ session, patientId }: { session: Session; patientId: string }) {
  const [form, setForm] = useState<RequestForm>(() => defaultForm(session.client.getFhirUser() ?? undefined, new Date()));
  /** The signed-in user's Practitioner, when they are one: who obtained the consent unless they say otherwise. */
  const [me] = useState(() => practitionerOf(session.client.getFhirUser() ?? undefined));
  const [who, setWho] = useState<'me' | 'other'>(me ? 'me' : 'other');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [sending, setSending] = useState<Sending>({ state: 'editing' });
  const formRef = useRef<HTMLFormElement>(null);

  const choose = (choice: 'me' | 'other') => {
    setWho(choice);
    setForm({ ...form, consentObtainedBy: choice === 'me' ? me ?? '' : '' });
    // A mistake in the field just left is no longer there to fix.
    const { consentObtainedBy: _left, ...rest } = errors;
    setErrors(rest);
  };

  const set = (field: RequestField) => (event: { currentTarget: { value: string } }) => setForm({ ...form, [field]: event.currentTarget.value });

  /** Focus on the first field in error, so a keyboard or screen reader user lands on what to fix. */
  const focusFirst = (found: FieldErrors) => {
    const first = (['level', 'consentObtainedBy', 'consentObtainedAt', 'consentMethod'] as const).find((field) => found[field]);
    if (first) setTimeout(() => formRef.current?.querySelector<HTMLElement>(`[aria-invalid="true"]`)?.focus(), 0);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const now = new Date();
    const offset = new Date(form.consentObtainedAt).getTimezoneOffset();
    const built = registrationRequest(form, now, Number.isNaN(offset) ? now.getTimezoneOffset() : offset);
    if ('errors' in built) {
      setErrors(built.errors);
      setSending({ state: 'editing' });
      return focusFirst(built.errors);
    }
    setErrors({});
    setSending({ state: 'sending' });
    const answer = await sendRegistration(session.client, patientId, built.parameters);
    if ('sent' in answer) return setSending({ state: 'sent' });
    setErrors(answer.fields);
    setSending({ state: 'refused', message: answer.message });
    focusFirst(answer.fields);
  };

  const describedBy = (field: RequestField, hint?: boolean) => [hint ? `${field}-hint` : '', errors[field] ? `${field}-error` : ''].filter(Boolean).join(' ') || undefined;
  const invalid = (field: RequestField) => (errors[field] ? 'true' : undefined);
  const error = (field: RequestField) =>
    errors[field] && (
      <p id={`${field}-error`} class="field-error">
        {errors[field]}
      </p>
    );

  return (
    <section class="request-access" aria-labelledby="request-access-title">
      <h2 id="request-access-title">Request access</h2>
      <p role="status">{sending.state === 'sent' ? 'Request sent: the hosting organization’s coordinators will review it.' : sending.state === 'sending' ? 'Sending the request…' : ''}</p>
      {sending.state === 'refused' && (
        <div role="alert" class="alert">
          <p>{sending.message}</p>
        </div>
      )}
      {sending.state !== 'sent' && (
        <form ref={formRef} noValidate onSubmit={submit}>
          <fieldset>
            <legend>Access for your organization</legend>
            {(
              [
                ['view', 'View the plan'],
                ['modify', 'View and change the plan'],
              ] as const
            ).map(([value, label]) => (
              <div class="choice" key={value}>
                <input type="radio" id={`level-${value}`} name="level" value={value} checked={form.level === value} onChange={set('level')} aria-invalid={invalid('level')} aria-describedby={describedBy('level')} />
                <label for={`level-${value}`}>{label}</label>
              </div>
            ))}
            {error('level')}
          </fieldset>
          <fieldset>
            <legend>The patient’s express consent</legend>
            <fieldset class="inner">
              <legend>Obtained by</legend>
              {me && (
                <div class="choice">
                  <input type="radio" id="obtainedBy-me" name="obtainedBy" checked={who === 'me'} onChange={() => choose('me')} aria-invalid={who === 'me' ? invalid('consentObtainedBy') : undefined} aria-describedby={describedBy('consentObtainedBy')} />
                  <label for="obtainedBy-me">Me, the signed-in practitioner</label>
                </div>
              )}
              <div class="choice">
                <input type="radio" id="obtainedBy-other" name="obtainedBy" checked={who === 'other'} onChange={() => choose('other')} aria-describedby={who === 'me' ? describedBy('consentObtainedBy') : undefined} />
                <label for="obtainedBy-other">Another practitioner</label>
              </div>
              {who === 'other' && (
                <div class="field">
                  <label for="consentObtainedBy">Their practitioner reference</label>
                  <p id="consentObtainedBy-hint" class="hint">
                    As Practitioner/ followed by the id, such as Practitioner/123.
                  </p>
                  <input type="text" id="consentObtainedBy" value={form.consentObtainedBy} onInput={set('consentObtainedBy')} aria-invalid={invalid('consentObtainedBy')} aria-describedby={describedBy('consentObtainedBy', true)} autoComplete="off" />
                </div>
              )}
              {error('consentObtainedBy')}
            </fieldset>
            <div class="field">
              <label for="consentObtainedAt">Obtained on</label>
              <p id="consentObtainedAt-hint" class="hint">
                The date and time the patient gave it, in your time zone.
              </p>
              <input type="datetime-local" id="consentObtainedAt" value={form.consentObtainedAt} onInput={set('consentObtainedAt')} aria-invalid={invalid('consentObtainedAt')} aria-describedby={describedBy('consentObtainedAt', true)} />
              {error('consentObtainedAt')}
            </div>
            <div class="field">
              <label for="consentMethod">How</label>
              <select id="consentMethod" value={form.consentMethod} onChange={set('consentMethod')} aria-invalid={invalid('consentMethod')} aria-describedby={describedBy('consentMethod')}>
                <option value="verbal">Verbally (express verbal consent)</option>
              </select>
              {error('consentMethod')}
            </div>
          </fieldset>
          <button type="submit" class="primary" disabled={sending.state === 'sending'}>
            Request access
          </button>
        </form>
      )}
    </section>
  );
}
