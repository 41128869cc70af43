// The official facet detection, as an oracle for tests/connectors/platforms/bluesky/test_richtext.py:
// reads a JSON array of texts on stdin, writes a JSON array with the facets of each
// (`RichText.detectFacetsWithoutResolution()` of @atproto/api: mentions keep their handle).
import { RichText } from '@atproto/api'

let input = ''
for await (const chunk of process.stdin) input += chunk
const out = JSON.parse(input).map((text) => {
  const rt = new RichText({ text })
  rt.detectFacetsWithoutResolution()
  return rt.facets ?? []
})
process.stdout.write(JSON.stringify(out))
