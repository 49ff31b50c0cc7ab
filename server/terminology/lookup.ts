import type { CodeSystemConceptProperty, Parameters, ParametersParameter } from 'fhir/r4';
import type { CodeSystemIndex, IndexedConcept } from './code-system-index.js';

/**
 * R4 CodeSystem $lookup's answer for a concept: `name`, `version` and `display` as named parameters, the
 * designations, and the rest as `property` groups (code, value): `definition`, `parent`, `child` and the concept's
 * own properties. `properties` (the `property` input) limits what is returned; without it everything is.
 * `lang.X` asks for the designations in language X.
 */
export function lookupParameters(index: CodeSystemIndex, concept: IndexedConcept, properties?: string[]): Parameters {
  const wanted = (name: string) => !properties?.length || properties.includes(name);
  const languages = (properties ?? []).filter((p) => p.startsWith('lang.')).map((p) => p.slice(5));
  const parameter: ParametersParameter[] = [
    { name: 'name', valueString: index.codeSystem.title ?? index.codeSystem.name ?? index.url },
    ...(index.version && wanted('version') ? [{ name: 'version', valueString: index.version }] : []),
    { name: 'display', valueString: concept.display ?? concept.code },
  ];
  for (const designation of concept.designation ?? []) {
    if (!wanted('designation') && !(designation.language && languages.includes(designation.language))) continue;
    parameter.push({
      name: 'designation',
      part: [
        ...(designation.language ? [{ name: 'language', valueCode: designation.language }] : []),
        ...(designation.use ? [{ name: 'use', valueCoding: designation.use }] : []),
        { name: 'value', valueString: designation.value },
      ],
    });
  }
  if (concept.definition !== undefined && wanted('definition')) parameter.push(property('definition', { valueString: concept.definition }));
  if (wanted('parent')) for (const code of concept.parents) parameter.push(property('parent', { valueCode: code }, index.find(code)?.display));
  if (wanted('child')) for (const code of concept.children) parameter.push(property('child', { valueCode: code }, index.find(code)?.display));
  for (const own of concept.property ?? []) {
    // Parent and child links are already given above, from the hierarchy whichever way it was stated.
    if (own.code === 'parent' || own.code === 'child' || !wanted(own.code)) continue;
    parameter.push(property(own.code, valueOf(own)));
  }
  return { resourceType: 'Parameters', parameter };
}

function property(code: string, value: Partial<ParametersParameter>, description?: string): ParametersParameter {
  return {
    name: 'property',
    part: [{ name: 'code', valueCode: code }, { name: 'value', ...value }, ...(description !== undefined ? [{ name: 'description', valueString: description }] : [])],
  };
}

function valueOf(property: CodeSystemConceptProperty): Partial<ParametersParameter> {
  const { code: _code, ...value } = property;
  return value;
}
