using Transit.Cli;

return await CliApp.RunAsync(args);
