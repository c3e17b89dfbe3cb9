// Run in an image's deps stage, after npm ci: the tokenizers package ships a native binary for
// every platform (about 64 MB); only this platform's is kept (about 60 MB less). Fails the build if
// that one is missing, rather than leaving an image whose tokenizer cannot load.
const fs = require('node:fs');
const dir = 'node_modules/tokenizers';
const keep = `tokenizers.linux-${process.arch}-gnu.node`;
if (!fs.existsSync(`${dir}/${keep}`)) throw new Error(`no ${keep} in ${dir}`);
for (const f of fs.readdirSync(dir)) if (f.endsWith('.node') && f !== keep) fs.rmSync(`${dir}/${f}`);
