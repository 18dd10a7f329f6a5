/**
 * 1fichier dates are `YYYY-MM-DD HH:MM:SS` in French local time with no zone (docs/1fichier-api.md, "Dates").
 * This converts them to epoch ms through the Europe/Paris rules of the runtime's ICU data.
 */

// Built on first use: constructing it loads the zone's ICU data (~15 ms of a Lambda's module init).
let parisParts: Intl.DateTimeFormat | undefined;
const paris = () =>
  (parisParts ??= new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Paris',
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }));

/** Offset of Paris from UTC at instant `ms`, in ms (3,600,000 in winter, 7,200,000 in summer). */
function parisOffsetAt(ms: number): number {
  const p = Object.fromEntries(
    paris()
      .formatToParts(new Date(ms))
      .map((x) => [x.type, x.value]),
  );
  const asUtc = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** Epoch ms of a 1fichier date, or undefined when empty, the 1970 sentinel, or unparseable. */
export function parseFichierDate(value: string | undefined | null): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value ?? '');
  if (!m) return undefined;
  if (m[1] === '1970') return undefined;
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  // Two passes settle the offset around DST switches.
  const first = wall - parisOffsetAt(wall);
  return wall - parisOffsetAt(first);
}

const HOUR_MS = 3_600_000;

/**
 * Every instant a 1fichier date may stand for: the wall time read at UTC+1 and at UTC+2. Paris is at one
 * of the two, an hour of October exists twice (DST ambiguity), and some clients and servers use a fixed
 * UTC+1 all year (the C# SDK does), so a summer date may be an hour off. Matching against both hedges
 * all three. Empty when the date is empty, the 1970 sentinel, or unparseable.
 */
export function fichierDateCandidates(value: string | undefined | null): number[] {
  const paris = parseFichierDate(value);
  if (paris === undefined) return [];
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value ?? '');
  if (!m) return [paris];
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return [wall - 2 * HOUR_MS, wall - HOUR_MS];
}
