using System.CommandLine;
using ShiftBench.Cli.Commands;

// Before any tensor exists: freed tensor memory stays in the process (page faults are what made runs slow here).
ShiftBench.NativeHeap.KeepFreedMemory();
var root = CliRoot.Create();
// Ctrl-C cancels the running command, which stops after the batch in flight (a ResNet50 batch takes
// about a second here) and says how to resume; wait for that rather than exiting mid-write.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) };
var parse = root.Parse(args);
if (ParseErrors.Failed(parse)) return ParseErrors.Report(parse, Console.Error);
return await parse.InvokeAsync(invocation);
