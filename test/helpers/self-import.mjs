// node --import tsx --import ./test/helpers/self-import.mjs program.mts
//
// Runs a program outside the repository as if kafka-wire were installed beside it, built from this
// checkout's sources: `kafka-wire` and each subpath that package.json's `exports` lists resolve to the
// TypeScript file under src/ that the export's dist/ file is compiled from (tsx loads it), and any
// other bare specifier the program's own folder cannot resolve (a peer such as @opentelemetry/api)
// resolves from the repository. test/readme.test.ts runs README.md's code blocks this way.
import { register } from 'node:module'

register('./self-import-hooks.mjs', import.meta.url)
