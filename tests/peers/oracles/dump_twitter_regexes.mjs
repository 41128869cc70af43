// Dumps the regular expressions that campaigns/_twitter_text_data.py is generated from:
// the fully assembled sources (after twitter-text's regexSupplant) and flags of the official
// npm packages, plus ECMAScript's case canonicalisation table for BMP code units (what a
// non-unicode /i regex compares). Run by gen_twitter_text_data.py; prints JSON on stdout.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const regexp = (name) => {
  const mod = require(`twitter-text/dist/regexp/${name}`);
  const re = mod.default || mod;
  return { source: re.source, flags: re.flags };
};
const twemojiModule = require('twemoji-parser/dist/lib/regex');
const twemoji = twemojiModule.default || twemojiModule;

// ECMAScript 2023 §22.2.2.7.3 Canonicalize(rer, ch) when neither /u nor /v is set.
const canon = [];
for (let c = 0; c < 0x10000; c++) {
  const ch = String.fromCharCode(c);
  const u = ch.toUpperCase();
  if (u.length !== 1) continue;
  const cu = u.charCodeAt(0);
  if (c >= 128 && cu < 128) continue;
  if (cu !== c) canon.push([c, cu]);
}

const version = (name) => require(`${name}/package.json`).version;
console.log(JSON.stringify({
  versions: {
    'twitter-text': version('twitter-text'),
    'twemoji-parser': version('twemoji-parser'),
    node: process.versions.node,
    unicode: process.versions.unicode,
  },
  regexes: {
    extractUrl: regexp('extractUrl'),
    validTcoUrl: regexp('validTcoUrl'),
    validAsciiDomain: regexp('validAsciiDomain'),
    validHashtag: regexp('validHashtag'),
    endHashtagMatch: regexp('endHashtagMatch'),
    validGTLD: regexp('validGTLD'),
    validCCTLD: regexp('validCCTLD'),
    validPunycode: regexp('validPunycode'),
    validDomainChars: regexp('validDomainChars'),
    twemoji: { source: twemoji.source, flags: twemoji.flags },
  },
  canon,
}));
