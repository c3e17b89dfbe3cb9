import { defineConfig, type UserConfig } from 'vitest/config';
import swc from 'unplugin-swc';

/**
 * Vitest settings for a Node project. SWC replaces esbuild for TypeScript
 * because NestJS dependency injection needs `emitDecoratorMetadata`, which
 * esbuild does not implement.
 */
export function nodeProject(root: string, test: NonNullable<UserConfig['test']> = {}) {
  return defineConfig({
    root,
    cacheDir: '../../node_modules/.vite/' + root.split('/').slice(-2).join('-'),
    resolve: { tsconfigPaths: true },
    plugins: [
      
      swc.vite({
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          target: 'es2022',
          keepClassNames: true,
        },
      }),
    ],
    test: {
      environment: 'node',
      include: ['src/**/*.spec.ts'],
      reporters: ['default'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...test,
    },
  });
}
