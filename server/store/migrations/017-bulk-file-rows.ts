/**
 * Bulk Data export files as rows, not copies (docs/BULK.md, docs/PERFORMANCE.md "Bulk export"): a part of an output
 * file now records the rids of the resources it holds (`rids`); the download reads each one's version as of the
 * job's transaction time then. Every exported byte was written to the database once more and read back before;
 * now a resource's text crosses from the database once, at the download. Parts that are text of their own (a
 * `_since` export's deleted Bundles) keep `data`; exactly one of the two is set.
 */
export const up = `
ALTER TABLE bulk_file_part ALTER COLUMN data DROP NOT NULL;
ALTER TABLE bulk_file_part ADD COLUMN rids bigint[];
ALTER TABLE bulk_file_part ADD CONSTRAINT bulk_file_part_content CHECK ((data IS NULL) <> (rids IS NULL));
`;
