/**
 * Draws the "Pip" sticker pack into web/public/stickers/pip/<index>.svg: one
 * round friendly character (a yellow blob with a sprout) in sixteen moods,
 * built from the shared parts below so that every sticker has the same
 * outline, palette and white die-cut border. The names and alt texts live in
 * web/src/lib/shared/stickers.ts (the pack's manifest); keep the order in step.
 *
 *   node --import tsx web/scripts/stickers.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const INK = '#3a2a1a';
const SKIN = '#ffc94d';
const MOUTH = '#8a3b2e';
const TONGUE = '#ff8fa3';
const RED = '#f2545b';
const BLUE = '#5bbcf5';

const line = (d: string, width = 5, color = INK): string =>
  `<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}" stroke-linecap="round" stroke-linejoin="round"/>`;
const shape = (d: string, fill: string, width = 4): string =>
  `<path d="${d}" fill="${fill}" stroke="${INK}" stroke-width="${width}" stroke-linejoin="round"/>`;
const heartPath = (x: number, y: number, s: number): string =>
  `M${x} ${y + 0.9 * s}C${x - 1.4 * s} ${y} ${x - 1.1 * s} ${y - 0.9 * s} ${x - 0.5 * s} ${y - 0.9 * s}C${x - 0.2 * s} ${y - 0.9 * s} ${x} ${y - 0.6 * s} ${x} ${y - 0.4 * s}C${x} ${y - 0.6 * s} ${x + 0.2 * s} ${y - 0.9 * s} ${x + 0.5 * s} ${y - 0.9 * s}C${x + 1.1 * s} ${y - 0.9 * s} ${x + 1.4 * s} ${y} ${x} ${y + 0.9 * s}Z`;

function body(skin = SKIN): string {
  return [
    // The sprout on top.
    line('M80 44C80 34 78 27 74 21', 4),
    shape('M75 23C64 11 50 14 47 21C55 30 67 30 75 23Z', '#7bc96f'),
    shape('M80 42C112 42 137 63 138 94C139 125 114 143 80 143C46 143 21 125 22 94C23 63 48 42 80 42Z', skin, 5),
    // A soft highlight, top left.
    '<ellipse cx="56" cy="64" rx="13" ry="7" transform="rotate(-28 56 64)" fill="#fff" opacity=".45"/>',
  ].join('');
}

const cheeks = '<ellipse cx="47" cy="103" rx="9" ry="5.5" fill="#ff8fa3" opacity=".75"/><ellipse cx="113" cy="103" rx="9" ry="5.5" fill="#ff8fa3" opacity=".75"/>';

const eyes = {
  open: `<ellipse cx="62" cy="88" rx="6.5" ry="8.5" fill="${INK}"/><ellipse cx="98" cy="88" rx="6.5" ry="8.5" fill="${INK}"/><circle cx="64.5" cy="84.5" r="2.4" fill="#fff"/><circle cx="100.5" cy="84.5" r="2.4" fill="#fff"/>`,
  happy: line('M54 91Q62 80 70 91') + line('M90 91Q98 80 106 91'),
  closed: line('M54 88Q62 95 70 88') + line('M90 88Q98 95 106 88'),
  squeezed: line('M54 82L68 89L54 95') + line('M106 82L92 89L106 95'),
  hearts: shape(heartPath(62, 88, 11), RED, 3) + shape(heartPath(98, 88, 11), RED, 3),
  wide: `<circle cx="62" cy="87" r="10" fill="#fff" stroke="${INK}" stroke-width="4"/><circle cx="98" cy="87" r="10" fill="#fff" stroke="${INK}" stroke-width="4"/><circle cx="62" cy="88" r="4.5" fill="${INK}"/><circle cx="98" cy="88" r="4.5" fill="${INK}"/>`,
  lookUp: `<ellipse cx="64" cy="84" rx="6.5" ry="8.5" fill="${INK}"/><ellipse cx="100" cy="84" rx="6.5" ry="8.5" fill="${INK}"/><circle cx="66.5" cy="80.5" r="2.4" fill="#fff"/><circle cx="102.5" cy="80.5" r="2.4" fill="#fff"/>`,
};

const mouth = {
  smile: line('M66 106Q80 118 94 106'),
  small: line('M72 108Q80 114 88 108', 4.5),
  laugh: shape('M60 101Q80 132 100 101Z', MOUTH) + `<path d="M70 117Q80 110 90 117Q80 125 70 117Z" fill="${TONGUE}"/>`,
  grin: shape('M62 103Q80 122 98 103Z', MOUTH),
  frown: line('M68 115Q80 104 92 115'),
  o: `<ellipse cx="80" cy="113" rx="7.5" ry="9.5" fill="${MOUTH}" stroke="${INK}" stroke-width="4"/>`,
  wavy: line('M64 111Q70 105 76 111Q82 117 88 111Q94 105 98 110', 4.5),
  smirk: line('M70 110Q84 114 94 104', 4.5),
  sleepy: `<ellipse cx="80" cy="112" rx="5" ry="6" fill="${MOUTH}" stroke="${INK}" stroke-width="3.5"/>`,
  gritted: shape('M64 104H96Q98 116 80 116Q62 116 64 104Z', '#fff', 4) + line('M72 104V115M80 104V116M88 104V115', 3),
};

/** A small round hand at (x, y). */
const hand = (x: number, y: number, r = 11): string => `<circle cx="${x}" cy="${y}" r="${r}" fill="${SKIN}" stroke="${INK}" stroke-width="4"/>`;
const sparkle = (x: number, y: number, s: number, color = '#ffb000'): string =>
  shape(`M${x} ${y - s}Q${x + s * 0.2} ${y - s * 0.2} ${x + s} ${y}Q${x + s * 0.2} ${y + s * 0.2} ${x} ${y + s}Q${x - s * 0.2} ${y + s * 0.2} ${x - s} ${y}Q${x - s * 0.2} ${y - s * 0.2} ${x} ${y - s}Z`, color, 3);
const drop = (x: number, y: number, s: number, color = BLUE): string =>
  shape(`M${x} ${y - s * 1.3}Q${x + s} ${y} ${x + s * 0.8} ${y + s * 0.5}A${s * 0.85} ${s * 0.85} 0 0 1 ${x - s * 0.8} ${y + s * 0.5}Q${x - s} ${y} ${x} ${y - s * 1.3}Z`, color, 3);

/** The sixteen stickers, in index order (see web/src/lib/shared/stickers.ts). */
const stickers: { name: string; art: string }[] = [
  {
    name: 'hello',
    art: body() + cheeks + eyes.open + mouth.smile + hand(36, 118) + hand(132, 60, 12) + line('M142 40Q151 48 149 60', 4) + line('M148 28Q160 42 156 62', 4),
  },
  {
    name: 'haha',
    art: body() + cheeks + eyes.squeezed + mouth.laugh + drop(42, 78, 7) + drop(118, 78, 7) + hand(32, 112) + hand(128, 112),
  },
  {
    name: 'love',
    art: body() + cheeks + eyes.hearts + mouth.grin + shape(heartPath(132, 40, 12), RED, 3) + shape(heartPath(146, 66, 7), RED, 3),
  },
  {
    name: 'thumbs-up',
    art:
      body() + cheeks + eyes.happy + mouth.smile +
      shape('M122 108h18a7 7 0 0 1 0 14h-2a7 7 0 0 1 0 12h-16a10 10 0 0 1-10-10v-6a10 10 0 0 1 10-10Z', SKIN) +
      shape('M124 110V92a7 7 0 0 1 14 0v16', SKIN) + hand(34, 120),
  },
  {
    name: 'sad',
    art:
      body('#ffd774') + line('M52 74L68 68', 4) + line('M108 74L92 68', 4) + eyes.open + mouth.frown +
      `<path d="M58 97Q56 118 60 136" fill="none" stroke="${BLUE}" stroke-width="7" stroke-linecap="round" opacity=".85"/><path d="M102 97Q104 118 100 136" fill="none" stroke="${BLUE}" stroke-width="7" stroke-linecap="round" opacity=".85"/>`,
  },
  {
    name: 'grr',
    art:
      body('#ff9a5c') + line('M50 72L70 81', 5) + line('M110 72L90 81', 5) + eyes.open + mouth.gritted +
      line('M122 30q6 8 0 16M134 26q-8 6-16 0M138 44q-8-6-16 0M126 54q-6-8 0-16', 4, RED) + hand(30, 116) + hand(130, 116),
  },
  {
    name: 'sleepy',
    art:
      body() + cheeks + eyes.closed + mouth.sleepy + drop(110, 120, 5) +
      line('M112 26h14l-14 14h14', 4) + line('M132 10h10l-10 10h10', 3.5),
  },
  {
    name: 'party',
    art:
      body() + cheeks + eyes.happy + mouth.laugh +
      shape('M84 46L104 14L120 38Z', '#8f6bff') + line('M92 33L110 23M97 42L115 31', 3.5, '#fff') + `<circle cx="104" cy="13" r="6" fill="#ffd23f" stroke="${INK}" stroke-width="3.5"/>` +
      '<rect x="22" y="30" width="8" height="14" rx="2" transform="rotate(-30 26 37)" fill="#ff6b8b"/><rect x="140" y="62" width="8" height="14" rx="2" transform="rotate(25 144 69)" fill="#4cc9f0"/><circle cx="34" cy="58" r="4.5" fill="#ffd23f"/><circle cx="142" cy="36" r="4.5" fill="#7bc96f"/><rect x="14" y="82" width="7" height="12" rx="2" transform="rotate(20 17 88)" fill="#8f6bff"/>' +
      hand(30, 104) + hand(132, 100),
  },
  {
    name: 'hmm',
    art:
      body() + eyes.lookUp + line('M70 112Q80 108 90 110', 4.5) + line('M54 74L68 72', 4) + line('M92 70L106 66', 4) + hand(96, 130, 12) +
      `<circle cx="118" cy="48" r="4" fill="#fff" stroke="${INK}" stroke-width="3"/><circle cx="126" cy="36" r="5" fill="#fff" stroke="${INK}" stroke-width="3"/>` +
      shape('M140 12a9 9 0 0 1 9 9c0 6-6 7-7 10v3', 'none', 4) + `<circle cx="142" cy="41" r="2.8" fill="${INK}"/>`,
  },
  {
    name: 'wow',
    art:
      body() + cheeks + eyes.wide + mouth.o + hand(40, 108) + hand(120, 108) +
      line('M28 34L36 46M18 56L32 60M52 20L54 34', 4) + line('M132 34L124 46M142 56L128 60M108 20L106 34', 4),
  },
  {
    name: 'coffee',
    art:
      body() + cheeks + eyes.happy + mouth.small +
      shape('M100 104h34v22a12 12 0 0 1-12 12h-10a12 12 0 0 1-12-12Z', '#fff') + shape('M134 110h4a8 8 0 0 1 0 16h-5', 'none') +
      '<rect x="104" y="108" width="26" height="7" fill="#8a5a3b"/>' +
      line('M110 96q-5-7 0-14t0-14', 3.5, '#9aa5ad') + line('M124 96q-5-7 0-14t0-14', 3.5, '#9aa5ad') + hand(98, 122, 9),
  },
  {
    name: 'thanks',
    art:
      body() + cheeks + eyes.happy + mouth.smile +
      shape('M72 140C70 124 74 112 80 106C86 112 90 124 88 140Z', SKIN) + line('M80 108V139', 3) +
      sparkle(30, 50, 10) + sparkle(134, 46, 12) + sparkle(142, 82, 7),
  },
  {
    name: 'cool',
    art:
      body() + cheeks +
      shape('M44 80H116V86Q116 100 101 100Q88 100 86 88H74Q72 100 59 100Q44 100 44 86Z', '#22262b') +
      '<path d="M52 84h12M92 84h12" stroke="#fff" stroke-width="3" stroke-linecap="round" opacity=".7"/>' + mouth.smirk + hand(132, 116) + hand(30, 116),
  },
  {
    name: 'sending-love',
    art: body() + cheeks + eyes.happy + mouth.small + shape(heartPath(80, 124, 24), RED, 4) + hand(56, 126) + hand(104, 126) + shape(heartPath(136, 34, 8), RED, 3),
  },
  {
    name: 'good-night',
    art:
      body('#ffd774') + cheeks + eyes.closed + mouth.small +
      shape('M40 58C44 30 74 18 98 26L86 50C70 46 54 48 40 58Z', '#5c7cfa') + `<circle cx="102" cy="24" r="8" fill="#fff" stroke="${INK}" stroke-width="4"/>` +
      shape('M142 78a18 18 0 1 1-16-28a14 14 0 0 0 16 28Z', '#ffe27a') + sparkle(22, 96, 6, '#ffe27a') + sparkle(136, 112, 5, '#ffe27a'),
  },
  {
    name: 'oops',
    art: body() + cheeks + eyes.open + mouth.wavy + line('M52 76L68 71', 4) + line('M108 76L92 71', 4) + drop(124, 62, 8) + hand(44, 126) + hand(116, 126),
  },
];

const filter =
  '<filter id="cut" x="-15%" y="-15%" width="130%" height="130%" color-interpolation-filters="sRGB">' +
  '<feMorphology in="SourceAlpha" operator="dilate" radius="5" result="grown"/>' +
  '<feFlood flood-color="#fff"/><feComposite in2="grown" operator="in" result="border"/>' +
  '<feGaussianBlur in="grown" stdDeviation="2.5"/><feOffset dy="2.5" result="blur"/>' +
  '<feFlood flood-color="#000" flood-opacity=".22"/><feComposite in2="blur" operator="in" result="shadow"/>' +
  '<feMerge><feMergeNode in="shadow"/><feMergeNode in="border"/><feMergeNode in="SourceGraphic"/></feMerge></filter>';

const dir = fileURLToPath(new URL('../public/stickers/pip/', import.meta.url));
mkdirSync(dir, { recursive: true });
stickers.forEach((sticker, index) => {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 160" width="160" height="160"><title>Pip: ${sticker.name}</title><defs>${filter}</defs><g filter="url(#cut)">${sticker.art}</g></svg>\n`;
  writeFileSync(`${dir}${index}.svg`, svg);
});
console.log(`wrote ${stickers.length} stickers into ${dir}`);
