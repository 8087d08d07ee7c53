/**
 * The human-readable form of `orchestrate explain` (and `build --dry-run`):
 * a short report, the decision first, then what the tool would rebuild.
 */
import type { ExplainResult } from '../explain/explain.js';
import type { UnitCause } from '../explain/analyze.js';
import { describeDifferences } from '../checkpoint/fingerprint.js';

const short = (id: string): string => id.slice(0, 12);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function describeCause(cause: UnitCause, unit: string): string {
  switch (cause.kind) {
    case 'full':
      return 'full build';
    case 'changed':
      return `'${cause.path}' changed`;
    case 'left-out':
      // The reason in full is in the "left out" list; its first clause here.
      return `${cause.path === unit ? 'it was' : `'${cause.path}' was`} left out of the restore (${cause.reason.split(/[;(]/)[0]?.trim()})`;
    case 'input-rebuilt':
      return `'${cause.unit}' is rebuilt`;
  }
}

/** The explanation as lines for a terminal. */
export function formatExplanation(result: ExplainResult): string {
  const out: string[] = [];
  const chosen = result.candidates.find((c) => c.chosen);
  if (result.checkpoint !== null) {
    out.push(
      `checkpoint: ${short(result.checkpoint)}${chosen ? ` (${chosen.createdAt ?? 'unknown date'})` : ''}, restored ${result.mode === 'partial' ? 'in part' : 'incrementally'}`,
    );
  } else {
    out.push(`full build: ${result.reason ?? 'no checkpoint'}`);
  }
  if (result.candidates.length > 0) {
    out.push(`candidates (${result.candidates.length}, newest first):`);
    const shown = [...result.candidates].sort((a, b) => (a.chosen ? -1 : b.chosen ? 1 : 0)).slice(0, 8);
    for (const c of shown) {
      const changes = c.changes === null ? '' : `, ${plural(c.changes, 'changed path')}`;
      const verdict =
        c.unusable !== null
          ? `unusable: ${c.unusable}`
          : c.fingerprint.length > 0
            ? `fingerprint differs: ${describeDifferences(c.fingerprint)}`
            : 'fingerprint matches';
      out.push(`  ${short(c.id)}  ${c.createdAt ?? ''}  ${verdict}${changes}${c.chosen ? '  <- chosen: the closest' : ''}`);
    }
    if (result.candidates.length > shown.length) out.push(`  … and ${result.candidates.length - shown.length} more`);
  }
  const kinds = ['added', 'modified', 'removed', 'modeChanged', 'linkChanged'] as const;
  const changeLines = kinds
    .filter((k) => result.changes[k].length > 0)
    .map((k) => `  ${k}: ${result.changes[k].slice(0, 10).join(', ')}${result.changes[k].length > 10 ? ', …' : ''}`);
  if (result.mode !== 'full') out.push(changeLines.length === 0 ? 'changes: none' : 'changes:', ...changeLines);
  if (result.leftOut.length > 0) {
    out.push(`left out of the restore (${plural(result.leftOut.length, 'file')}):`);
    const byReason = new Map<string, string[]>();
    for (const item of result.leftOut) byReason.set(item.reason, [...(byReason.get(item.reason) ?? []), item.path]);
    for (const [reason, paths] of byReason) {
      out.push(`  ${paths.slice(0, 5).join(', ')}${paths.length > 5 ? `, … (${paths.length})` : ''}`, `      ${reason}`);
    }
  }
  if (result.units === null) {
    out.push('the build tool was not asked (no plugin answers explainBuild)');
  } else {
    out.push(
      result.units.length === 0
        ? `nothing to rebuild (${result.toolCommand})`
        : `would rebuild ${plural(result.units.length, 'unit')} (${result.toolCommand}):`,
    );
    for (const unit of result.units) {
      const why = unit.causes.length > 0 ? unit.causes.map((cause) => describeCause(cause, unit.unit)).join('; ') : 'unexplained';
      out.push(`  ${unit.unit}: ${why}`);
      for (const reason of unit.reasons.slice(0, 3)) out.push(`      ${reason}`);
    }
  }
  if (result.unusedChanges.length > 0) out.push(`changes no rebuilt unit names: ${result.unusedChanges.join(', ')}`);
  for (const note of result.notes) out.push(`note: ${note}`);
  for (const warning of result.warnings) out.push(`warning: ${warning}`);
  return `${out.join('\n')}\n`;
}
