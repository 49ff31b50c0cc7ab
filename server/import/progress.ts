import type { ImportProgress, ImportSummary } from './importer.js';

const WIDTH = 30;

/**
 * Progress on a terminal: one line redrawn in place (bar, files, resources, rate). Elsewhere (CI logs, pipes)
 * one line per file, so logs stay readable.
 */
export function progressReporter(stream: NodeJS.WriteStream, started = Date.now()): (progress: ImportProgress) => void {
  return ({ file, filesDone, filesTotal, resources }) => {
    const rate = Math.round(resources / Math.max((Date.now() - started) / 1000, 0.001));
    if (stream.isTTY) {
      const filled = Math.round((filesDone / Math.max(filesTotal, 1)) * WIDTH);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`;
      stream.write(`\r[${bar}] ${filesDone}/${filesTotal} files  ${resources.toLocaleString('en')} resources  ${rate.toLocaleString('en')}/s `);
      if (filesDone === filesTotal) stream.write('\n');
    } else {
      stream.write(`${filesDone}/${filesTotal} ${file}: ${resources} resources so far\n`);
    }
  };
}

export function formatSummary(summary: ImportSummary): string {
  const rate = Math.round(summary.resources / Math.max(summary.seconds, 0.001));
  const lines = [
    `imported ${summary.resources.toLocaleString('en')} resources from ${summary.files - summary.failed.length} of ${summary.files} files ` +
      `in ${summary.transactions} transactions, ${summary.seconds.toFixed(1)} s (${rate.toLocaleString('en')} resources/s)`,
    ...Object.entries(summary.byType)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, count]) => `  ${type.padEnd(28)} ${count.toLocaleString('en').padStart(9)}`),
  ];
  if (summary.failed.length) {
    lines.push(`${summary.failed.length} files failed:`);
    for (const failure of summary.failed) lines.push(`  ${failure.file}: ${failure.status ? `${failure.status} ` : ''}${failure.message}`);
  }
  return lines.join('\n');
}
