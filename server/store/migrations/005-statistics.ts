/**
 * Statistics on combinations of the index tables' columns. Every index row names its resource type and search
 * parameter beside its value, and these columns are far from independent: the planner, multiplying their
 * selectivities as if they were, estimated one row of `CarePlan` `category` `ccp` where there were 8,450, and so
 * drove the one-active-CCP check from every CCP (71 ms at 170k resources) instead of from the patient (0.13 ms).
 * Most-common-value lists over the combination give it the real counts; ANALYZE fills them.
 */
export const up = `
CREATE STATISTICS search_string_stats (mcv) ON resource_type, param, normalized FROM search_string;
CREATE STATISTICS search_token_stats (mcv) ON resource_type, param, system, code FROM search_token;
CREATE STATISTICS search_date_stats (mcv) ON resource_type, param, low FROM search_date;
CREATE STATISTICS search_reference_stats (mcv) ON resource_type, param, target_type FROM search_reference;
CREATE STATISTICS search_uri_stats (mcv) ON resource_type, param, value FROM search_uri;
CREATE STATISTICS search_composite_stats (mcv) ON resource_type, param, c1_system, c1_code FROM search_composite;
`;
