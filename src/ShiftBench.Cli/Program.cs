return await ShiftBench.Cli.CliApp.RunProcessAsync(args);
