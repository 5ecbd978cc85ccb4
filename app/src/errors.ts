// The program's error messages, from its IDL (client/idl/tessera.json, the file the generated
// client comes from). The generated client keeps its messages out of production builds; the
// app always shows them, so it reads them from the IDL itself.
import idl from '../../client/idl/tessera.json';

const messages = new Map<number, string>(
  (idl as { errors?: { code: number; name: string; msg?: string }[] }).errors?.map((e) => [e.code, e.msg ?? e.name]) ?? [],
);

/** The program's message for a custom error code, if it is one of the program's. */
export function programErrorMessage(code: number): string | undefined {
  return messages.get(code);
}
