/**
 * Search index tables: the values of every search parameter of every current resource, extracted at write time
 * (server/search/index). A search is a query over these tables joined to `resource` by `rid`; it never reads
 * JSON documents. Each table is keyed for its comparisons; `rid` indexes serve re-indexing and _include.
 * Open date bounds are stored as -infinity/infinity so that range tests need no NULL cases.
 */
export const up = `
CREATE TABLE search_string (
  rid           bigint NOT NULL,
  resource_type text   NOT NULL,
  param         text   NOT NULL,
  normalized    text   NOT NULL,
  exact         text   NOT NULL
);
CREATE INDEX search_string_value ON search_string (resource_type, param, normalized text_pattern_ops);
CREATE INDEX search_string_rid ON search_string (rid);

CREATE TABLE search_token (
  rid           bigint NOT NULL,
  resource_type text   NOT NULL,
  param         text   NOT NULL,
  system        text,
  code          text,
  text          text,
  of_type       text
);
CREATE INDEX search_token_value ON search_token (resource_type, param, code, system);
CREATE INDEX search_token_rid ON search_token (rid);

CREATE TABLE search_date (
  rid           bigint      NOT NULL,
  resource_type text        NOT NULL,
  param         text        NOT NULL,
  low           timestamptz NOT NULL,
  high          timestamptz NOT NULL
);
CREATE INDEX search_date_low ON search_date (resource_type, param, low);
CREATE INDEX search_date_high ON search_date (resource_type, param, high);
CREATE INDEX search_date_rid ON search_date (rid);

CREATE TABLE search_number (
  rid           bigint  NOT NULL,
  resource_type text    NOT NULL,
  param         text    NOT NULL,
  value         numeric NOT NULL,
  low           numeric NOT NULL,
  high          numeric NOT NULL
);
CREATE INDEX search_number_value ON search_number (resource_type, param, value);
CREATE INDEX search_number_rid ON search_number (rid);

CREATE TABLE search_quantity (
  rid           bigint  NOT NULL,
  resource_type text    NOT NULL,
  param         text    NOT NULL,
  value         numeric NOT NULL,
  low           numeric NOT NULL,
  high          numeric NOT NULL,
  system        text,
  code          text,
  unit          text
);
CREATE INDEX search_quantity_value ON search_quantity (resource_type, param, value);
CREATE INDEX search_quantity_rid ON search_quantity (rid);

CREATE TABLE search_reference (
  rid               bigint NOT NULL,
  resource_type     text   NOT NULL,
  param             text   NOT NULL,
  target_type       text,
  target_id         text,
  target_version    text,
  url               text,
  identifier_system text,
  identifier_value  text
);
CREATE INDEX search_reference_target ON search_reference (target_id, target_type, resource_type, param);
CREATE INDEX search_reference_url ON search_reference (url) WHERE url IS NOT NULL;
CREATE INDEX search_reference_identifier ON search_reference (identifier_value) WHERE identifier_value IS NOT NULL;
CREATE INDEX search_reference_rid ON search_reference (rid);

CREATE TABLE search_uri (
  rid           bigint NOT NULL,
  resource_type text   NOT NULL,
  param         text   NOT NULL,
  value         text   NOT NULL
);
CREATE INDEX search_uri_value ON search_uri (resource_type, param, value text_pattern_ops);
CREATE INDEX search_uri_rid ON search_uri (rid);

-- Composite parameters (R4: token$token, token$quantity, token$number$number, token$string, token$date,
-- reference$token): each row holds the values of one element, component by component, so that a match on
-- all components is a match within the same element (e.g. the same Observation.component).
CREATE TABLE search_composite (
  rid           bigint NOT NULL,
  resource_type text   NOT NULL,
  param         text   NOT NULL,
  c1_system     text,
  c1_code       text,
  c2_system     text,
  c2_code       text,
  c2_value      numeric,
  c2_low        numeric,
  c2_high       numeric,
  c2_text       text,
  c2_date_low   timestamptz,
  c2_date_high  timestamptz,
  c3_value      numeric,
  c3_low        numeric,
  c3_high       numeric
);
CREATE INDEX search_composite_value ON search_composite (resource_type, param, c1_code, c1_system);
CREATE INDEX search_composite_rid ON search_composite (rid);
`;
