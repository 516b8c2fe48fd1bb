using Transit.Cli;
using Transit.GateAgent.Journal;

SqliteLibrary.PreferSystemLibrary();

return await CliApp.RunAsync(args);
