// A type-level test, run by `npm run typecheck`: the hand-typed bindings in
// wails.ts (window.go) must agree with the Go side described in
// wails.contract.gen.ts, which `go test ./app` keeps up to date. Nothing here
// runs or ships.
//
// Agree means assignable both ways, per method: the arguments the window
// passes are what Go decodes and the results Go encodes are what the window
// reads, and neither side has a method, argument or field the other lacks
// (an optional field may be on one side only).
import type { GoBindings } from './wails.contract.gen';
import type {} from './wails'; // declares window.go

// Calls turns each method into its argument tuple and resolved result, so
// that both are compared as plain types: method parameters are compared
// bivariantly, which would let an argument that gained a field through.
type Calls<S> = {
  [M in keyof S]-?: S[M] extends (...args: infer A) => Promise<infer R> ? { args: A; result: R } : never;
};

// Services applies Calls to every service of every package of window.go.
type Services<B> = {
  [P in keyof B]-?: { [S in keyof NonNullable<B[P]>]-?: Calls<NonNullable<B[P]>[S]> };
};

type HandTyped = Services<NonNullable<Window['go']>>;
type FromGo = Services<GoBindings>;

// Is<A, B> compiles only if A is assignable to B; otherwise tsc names the
// service, method and field that differ.
type Is<A extends B, B> = A;

export type BindingsAgree = [Is<HandTyped, FromGo>, Is<FromGo, HandTyped>];
