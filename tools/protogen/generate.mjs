#!/usr/bin/env node
// Generates TypeScript interfaces for every proto package under
// libs/contracts/proto. Server handlers `implement` the generated
// `*Controller` interfaces, so a contract change breaks compilation instead of
// production. Pure JS on protobufjs (no protoc), so CI can regenerate it on a
// machine with nothing but npm; `--check` fails when the committed output drifts.
import { readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const protoRoot = join(root, 'libs/contracts/proto');
const outDir = join(root, 'libs/contracts/src/grpc/generated');
const check = process.argv.includes('--check');

function listProtos(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listProtos(join(dir, e.name)) : e.name.endsWith('.proto') ? [join(dir, e.name)] : [],
  );
}

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const lowerFirst = (s) => s[0].toLowerCase() + s.slice(1);
const upperSnake = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase();

const SCALARS = {
  double: 'number', float: 'number', int32: 'number', uint32: 'number', sint32: 'number',
  fixed32: 'number', sfixed32: 'number', int64: 'number', uint64: 'number', sint64: 'number',
  fixed64: 'number', sfixed64: 'number', bool: 'boolean', string: 'string', bytes: 'Uint8Array',
};

/** TS name for a reflected type: Package-local names stay short, others get the package prefix. */
function tsName(type, pkg) {
  const full = type.fullName.replace(/^\./, '');
  const ns = full.slice(0, full.length - type.name.length - 1);
  // Nested types are flattened as Parent_Child.
  const nestedPath = [];
  let t = type;
  while (t.parent && !(t.parent instanceof protobuf.Namespace && !(t.parent instanceof protobuf.Type))) {
    nestedPath.unshift(t.parent.name);
    t = t.parent;
  }
  const local = [...nestedPath, type.name].join('_');
  const typePkg = packageOf(type);
  return typePkg === pkg ? local : `${pkgAlias(typePkg)}.${local}`;
  void ns;
}

function packageOf(type) {
  let t = type.parent;
  while (t instanceof protobuf.Type) t = t.parent;
  return t.fullName.replace(/^\./, '');
}
const pkgAlias = (pkg) => pkg.split('.').map((p, i) => (i ? p[0].toUpperCase() + p.slice(1) : p)).join('');
const fileFor = (pkg) => pkg.replace(/\./g, '/') + '.ts';

function fieldType(field, pkg, imports) {
  let t;
  if (field.resolvedType) {
    const rpkg = packageOf(field.resolvedType);
    if (rpkg !== pkg) imports.add(rpkg);
    t = tsName(field.resolvedType, pkg);
  } else {
    t = SCALARS[field.type];
    if (!t) throw new Error(`unknown scalar ${field.type}`);
  }
  if (field.map) {
    const v = t;
    return `{ [key: string]: ${v} }`;
  }
  return field.repeated ? `${t}[]` : t;
}

function collect(ns, out) {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum || nested instanceof protobuf.Service) {
      const pkg = nested instanceof protobuf.Type || nested instanceof protobuf.Enum ? packageOf(nested) : packageOf(nested);
      (out[pkg] ??= []).push(nested);
      if (nested instanceof protobuf.Type) collect(nested, out);
    } else if (nested instanceof protobuf.Namespace) {
      collect(nested, out);
    }
  }
  return out;
}

function emitEnum(e, pkg) {
  const name = tsName(e, pkg);
  const keys = Object.keys(e.values);
  return [
    `export const ${name} = {`,
    ...keys.map((k) => `  ${k}: '${k}',`),
    `} as const;`,
    `export type ${name} = (typeof ${name})[keyof typeof ${name}];`,
    '',
  ].join('\n');
}

function emitMessage(m, pkg, imports) {
  const name = tsName(m, pkg);
  const lines = [`export interface ${name} {`];
  for (const field of m.fieldsArray) {
    const isMessage = field.resolvedType instanceof protobuf.Type && !field.map && !field.repeated;
    const optional = isMessage || field.partOf !== null || field.options?.proto3_optional;
    const nullable = isMessage ? ' | null' : '';
    if (field.comment) lines.push(`  /** ${field.comment.replace(/\n/g, ' ')} */`);
    lines.push(`  ${camel(field.name)}${optional ? '?' : ''}: ${fieldType(field, pkg, imports)}${nullable};`);
  }
  for (const oneof of m.oneofsArray) {
    if (oneof.name.startsWith('_')) continue; // synthetic oneof of a proto3 `optional`
    lines.push(`  /** Which member of the oneof is set. */`);
    lines.push(`  ${camel(oneof.name)}?: ${oneof.fieldsArray.map((f) => `'${camel(f.name)}'`).join(' | ')};`);
  }
  lines.push('}', '');
  return lines.join('\n');
}

function emitService(s, pkg, imports) {
  const methods = s.methodsArray.map((m) => {
    m.resolve();
    const req = m.resolvedRequestType, res = m.resolvedResponseType;
    for (const t of [req, res]) if (packageOf(t) !== pkg) imports.add(packageOf(t));
    return { name: m.name, req: tsName(req, pkg), res: tsName(res, pkg), reqStream: !!m.requestStream, resStream: !!m.responseStream };
  });
  const serviceConst = `${upperSnake(s.name)}_NAME`;
  const lines = [
    `export const ${serviceConst} = '${s.name}';`,
    '',
    `/** Server side: a NestJS controller implements this and is decorated with ${s.name}ControllerMethods(). */`,
    `export interface ${s.name}Controller {`,
    ...methods.map((m) =>
      m.reqStream
        ? `  ${lowerFirst(m.name)}(request: Observable<${m.req}>, metadata: Metadata, call?: unknown): Observable<${m.res}>;`
        : m.resStream
          ? `  ${lowerFirst(m.name)}(request: ${m.req}, metadata: Metadata, call?: unknown): Observable<${m.res}>;`
          : `  ${lowerFirst(m.name)}(request: ${m.req}, metadata: Metadata, call?: unknown): Promise<DeepPartial<${m.res}>> | DeepPartial<${m.res}>;`,
    ),
    '}',
    '',
    `/** Client side, as returned by ClientGrpc.getService<${s.name}Client>('${s.name}'). */`,
    `export interface ${s.name}Client {`,
    ...methods.map((m) => `  ${lowerFirst(m.name)}(request: DeepPartial<${m.req}>, metadata?: Metadata): Observable<${m.res}>;`),
    '}',
    '',
    `export function ${s.name}ControllerMethods() {`,
    `  return function (constructor: Function) {`,
    ...methods.map((m) => {
      const deco = m.reqStream ? 'GrpcStreamMethod' : 'GrpcMethod';
      return `    decorate(constructor, ${deco}, '${s.name}', '${m.name}', '${lowerFirst(m.name)}');`;
    }),
    `  };`,
    `}`,
    '',
  ];
  return lines.join('\n');
}

const HEADER = `// Generated by tools/protogen/generate.mjs from libs/contracts/proto. Do not edit.\n/* eslint-disable */\n`;

function generate() {
  const files = listProtos(protoRoot);
  const rootNs = new protobuf.Root();
  rootNs.resolvePath = (_origin, target) => (existsSync(target) ? target : join(protoRoot, target));
  rootNs.loadSync(files, { keepCase: true, alternateCommentMode: true });
  rootNs.resolveAll();
  const byPkg = collect(rootNs, {});
  const outputs = {};
  for (const [pkg, items] of Object.entries(byPkg).sort()) {
    const imports = new Set();
    const body = [];
    const hasService = items.some((i) => i instanceof protobuf.Service);
    for (const item of items) {
      if (item instanceof protobuf.Enum) body.push(emitEnum(item, pkg));
      else if (item instanceof protobuf.Type) body.push(emitMessage(item, pkg, imports));
    }
    for (const item of items) if (item instanceof protobuf.Service) body.push(emitService(item, pkg, imports));
    const file = fileFor(pkg);
    const head = [HEADER];
    if (hasService) {
      head.push(`import type { Metadata } from '@grpc/grpc-js';`);
      head.push(`import type { Observable } from 'rxjs';`);
      head.push(`import { GrpcMethod, GrpcStreamMethod } from '@nestjs/microservices';`);
      head.push(`import { decorate, type DeepPartial } from '../${'../'.repeat(pkg.split('.').length - 1)}runtime';`);
    }
    for (const dep of [...imports].sort()) {
      const rel = relative(dirname(join(outDir, file)), join(outDir, fileFor(dep))).replace(/\.ts$/, '');
      head.push(`import type * as ${pkgAlias(dep)} from '${rel.startsWith('.') ? rel : './' + rel}';`);
    }
    head.push('', `export const PROTO_PACKAGE = '${pkg}';`, '');
    outputs[file] = head.join('\n') + '\n' + body.join('\n');
  }
  outputs['index.ts'] =
    HEADER +
    Object.keys(outputs)
      .sort()
      .map((f) => `export * as ${pkgAlias(f.replace(/\.ts$/, '').replace(/\//g, '.'))} from './${f.replace(/\.ts$/, '')}';`)
      .join('\n') +
    '\n';
  return outputs;
}

const outputs = generate();
if (check) {
  const drift = Object.entries(outputs).filter(([f, text]) => {
    const p = join(outDir, f);
    return !existsSync(p) || readFileSync(p, 'utf8') !== text;
  });
  if (drift.length) {
    console.error(`Generated gRPC types are out of date: ${drift.map(([f]) => f).join(', ')}. Run npm run proto:gen.`);
    process.exit(1);
  }
  console.log(`proto types up to date (${Object.keys(outputs).length} files)`);
} else {
  rmSync(outDir, { recursive: true, force: true });
  for (const [f, text] of Object.entries(outputs)) {
    mkdirSync(dirname(join(outDir, f)), { recursive: true });
    writeFileSync(join(outDir, f), text);
  }
  console.log(`wrote ${Object.keys(outputs).length} files to ${relative(root, outDir)}`);
}
