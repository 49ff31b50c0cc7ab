import { DEFAULT_MAX_JSON_DEPTH, numberProblem, parseJsonText, scanJsonText } from '../../server/fhir/json-text.js';
import { decodeUtf8, textProblem } from '../../server/fhir/text-rules.js';
import { FhirError } from '../../server/fhir/outcome.js';
import { thrown } from '../support/thrown.js';

const where = (text: string, depth = DEFAULT_MAX_JSON_DEPTH): string[] => scanJsonText(text, depth).flatMap((issue) => issue.expression ?? []);

describe('numbers a double cannot keep as written', () => {
  it.each(['1e400', '-1e400', '1E309', '12345678901234567890', '0.12345678901234567890123', '9007199254740993', '1e-400', '4.9e-324', '0.1000000000000000055511151231257827'])(
    '%s is refused',
    (token) => {
      expect(numberProblem(token)).toBeDefined();
    },
  );

  it.each(['0', '-0', '0.0', '1.10', '1e2', '100', '1.5E+3', '0.1', '-12.75', '9007199254740992', '1.7976931348623157e308', '5e-324', '123456789012345e3', '0e999999', '3.14159'])(
    '%s is kept (same digits, trailing zeros and notation aside)',
    (token) => {
      expect(numberProblem(token)).toBeUndefined();
    },
  );

  it('names the element of an infinite number as a FHIRPath', () => {
    const issues = scanJsonText('{"resourceType":"Observation","valueQuantity":{"value":1e400,"unit":"mg"}}', 100);
    expect(issues).toHaveLength(1);
    expect(issues[0].expression).toEqual(['Observation.valueQuantity.value']);
    expect(issues[0].diagnostics).toContain('too large');
  });

  it('names indexes of arrays, and finds the resource type wherever it is written', () => {
    const text = '{"component":[{"valueQuantity":{"value":1}},{"valueQuantity":{"value":12345678901234567890}}],"resourceType":"Observation"}';
    expect(where(text)).toEqual(['Observation.component[1].valueQuantity.value']);
  });
});

describe('strings', () => {
  it('tab, CR, LF and paired surrogates (emoji) are text; other controls and lone halves are not', () => {
    expect(textProblem('a\tb\r\nc 😀 é')).toBeUndefined();
    expect(textProblem('a\u0000')).toContain('U+0000');
    expect(textProblem('\u001f')).toContain('U+001F');
    expect(textProblem('x\ud800')).toContain('U+D800');
    expect(textProblem('\udc00x')).toContain('U+DC00');
    expect(textProblem('\ude00\ud83d')).toContain('surrogate');
  });

  it('finds escaped control characters and lone surrogates in values and in element names', () => {
    const text = '{"resourceType":"Patient","name":[{"given":["a","b\\u0000"]}],"x\\u0007":"y","text":{"div":"\\ud800"},"note":"\\ud83d\\ude00 \\\\u0000 \\""}';
    expect(where(text)).toEqual(['Patient.name[0].given[1]', 'Patient', 'Patient.text.div']);
  });

  it('refuses keys that reach the prototype, at any depth', () => {
    expect(where('{"resourceType":"Patient","__proto__":{"polluted":true},"contact":[{"constructor":1,"prototype":2}]}')).toEqual([
      'Patient.__proto__',
      'Patient.contact[0].constructor',
      'Patient.contact[0].prototype',
    ]);
  });

  it('names a JSON Patch document\'s elements from its root', () => {
    expect(where('[{"op":"add","path":"/a","value":"\\u0001"}]')).toEqual(['$[0].value']);
  });

  it('decodes UTF-8 strictly: bad bytes are a 400, not U+FFFD', () => {
    expect(decodeUtf8(Buffer.from('{"a":"é😀"}'), 'The body')).toBe('{"a":"é😀"}');
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf]]) {
      const error = thrown(() => decodeUtf8(Buffer.from([0x22, ...bad, 0x22]), 'The body'));
      expect(error).toBeInstanceOf(FhirError);
      expect((error as FhirError).status).toBe(400);
    }
  });
});

describe('nesting depth', () => {
  const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);

  it('accepts exactly the limit and refuses one more, naming where', () => {
    expect(scanJsonText(nested(10), 10)).toEqual([]);
    const issues = scanJsonText(nested(11), 10);
    expect(issues).toHaveLength(1);
    expect(issues[0].expression).toEqual(['$[0][0][0][0][0][0][0][0][0][0]']);
  });

  it('names the path in a resource', () => {
    const text = '{"resourceType":"Patient","extension":[{"extension":[{"url":"x"}]}]}';
    expect(scanJsonText(text, 5)).toEqual([]);
    expect(where(text, 4)).toEqual(['Patient.extension[0].extension[0]']);
  });

  it('scans a million levels without recursing (one problem, not a stack overflow)', () => {
    const error = thrown(() => parseJsonText(nested(1_000_000), DEFAULT_MAX_JSON_DEPTH)) as FhirError;
    expect(error.status).toBe(400);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0].diagnostics).toContain(`deeper than the ${DEFAULT_MAX_JSON_DEPTH} levels`);
  });
});

describe('parseJsonText', () => {
  it('returns what JSON.parse returns for acceptable text', () => {
    const text = '{"resourceType":"Observation","valueQuantity":{"value":1.10},"status":"final","note":[{"text":"😀\\n"}]}';
    expect(parseJsonText(text, 100)).toEqual(JSON.parse(text));
  });

  it('a syntax error is a 400', () => {
    const error = thrown(() => parseJsonText('{"a":', 100)) as FhirError;
    expect(error.status).toBe(400);
    expect(error.issues[0].diagnostics).toContain('not valid JSON');
  });

  it('reports at most 20 problems', () => {
    const text = `[${Array.from({ length: 50 }, () => '1e400').join(',')}]`;
    const error = thrown(() => parseJsonText(text, 100)) as FhirError;
    expect(error.issues).toHaveLength(20);
    expect(error.issues[19].expression).toEqual(['$[19]']);
  });
});

describe('text that is not JSON', () => {
  it.each(['{"a":"unclosed', '[1,-]', '{"a":"\\x"}', ',,,]]}}', '"\\ud800', 'tru', '-', '{"a":1e}', ''])('%j is a 400 naming the syntax error, never a crash', (text) => {
    const error = thrown(() => parseJsonText(text, 100));
    expect(error.status).toBe(400);
    expect(error.issues[0].diagnostics).toContain('not valid JSON');
  });

  it('too deep is found before parsing, even in text that is not JSON', () => {
    const error = thrown(() => parseJsonText(`{"resourceType":"Patient","a":${'['.repeat(200)}`, 100));
    expect(error.issues[0].diagnostics).toContain('deeper than the 100 levels');
    expect(error.issues[0].expression?.[0]).toMatch(/^Patient\.a(\[0\]){99}$/);
  });
});

describe('the scan ends on any text', () => {
  it.each(['tru', 'fals', 'nul', '[tru', '{"a":n', '-', '"', '"\\', '[1e', '  ', ':', '{"a"  :  '])('%j', (text) => {
    expect(Array.isArray(scanJsonText(text, 100))).toBe(true);
  });
});
