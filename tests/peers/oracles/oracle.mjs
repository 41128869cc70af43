// Differential-test oracle for campaigns/length.py: the platforms' own counting code.
//
// Reads one JSON object per line on stdin ({"text": "..."}) and writes one JSON object per
// line on stdout, in the same order. Indices are UTF-16 code units, as the JS libraries
// give them; the Python side converts. One process serves a whole test session.
//
//   twitter:   twitter-text 3.1.0 parseTweet (config v3, the default) and extractUrlsWithIndices
//   emoji:     twemoji-parser (the version twitter-text itself depends on) parse()
//   hashtags:  twitter-text extractHashtags
//   bluesky:   @atproto/lex-data graphemeLen / utf8Len, the functions the PDS lexicon
//              validator uses for maxGraphemes / maxLength (Intl.Segmenter, V8's ICU)
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { graphemeLen, utf8Len } from '@atproto/lex-data';

const require = createRequire(import.meta.url);
const twitter = require('twitter-text');
const twemoji = require('twemoji-parser');

function answer(text) {
  const parsed = twitter.parseTweet(text);
  return {
    weightedLength: parsed.weightedLength,
    valid: parsed.valid,
    urls: twitter.extractUrlsWithIndices(text).map((u) => u.indices),
    emoji: twemoji.parse(text).map((e) => e.indices),
    hashtags: twitter.extractHashtags(text),
    graphemes: graphemeLen(text),
    bytes: utf8Len(text),
  };
}

if (process.argv[2] === '--versions') {
  const v = (name) => require(`${name}/package.json`).version;
  console.log(JSON.stringify({
    node: process.versions.node,
    icu: process.versions.icu,
    unicode: process.versions.unicode,
    'twitter-text': v('twitter-text'),
    'twemoji-parser': require('twemoji-parser/package.json').version,
  }));
  process.exit(0);
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  let out;
  try {
    out = answer(JSON.parse(line).text);
  } catch (err) {
    out = { error: String(err && err.stack ? err.stack : err) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
