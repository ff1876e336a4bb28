// What a command prints for the person at the terminal, a line at a time (console.log, or the lines a test
// collects). The commands' output, not the service log (functions/adapters/log.ts).

export type Print = (line: string) => void;
