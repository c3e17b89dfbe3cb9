// esbuild cannot emit decorator metadata, and NestJS resolves constructor
// injection from it. TypeScript sources are therefore transpiled by SWC (which
// does emit `design:paramtypes`) and esbuild only bundles the result.
const { transform } = require('@swc/core');
const { readFile } = require('node:fs/promises');

/** @type {import('esbuild').Plugin} */
const swcDecorators = {
  name: 'swc-decorator-metadata',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes('node_modules')) return undefined;
      const source = await readFile(args.path, 'utf8');
      const out = await transform(source, {
        filename: args.path,
        sourceMaps: 'inline',
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          target: 'es2022',
          keepClassNames: true,
        },
      });
      return { contents: out.code, loader: 'js' };
    });
  },
};

module.exports = {
  plugins: [swcDecorators],
  keepNames: true,
  // The bundle is CommonJS; name it .js so `node dist/apps/<app>/main.js` works as documented.
  outExtension: { '.js': '.js' },
};
