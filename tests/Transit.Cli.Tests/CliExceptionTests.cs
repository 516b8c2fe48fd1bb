namespace Transit.Cli.Tests;

public sealed class CliExceptionTests
{
    [Fact]
    public void From_ALibrarysRefusal_KeepsItsWordsWithoutTheCSharpParameter()
    {
        var refusal = new ArgumentException("the phone key is not the one the credential names (as written)", "phoneKey");

        var error = CliException.From(refusal, "--credential");

        Assert.Equal("--credential: the phone key is not the one the credential names (as written)", error.Message);
        Assert.Equal(CliApp.UsageError, error.ExitCode);
    }

    [Fact]
    public void From_ARefusalWithoutAParameter_IsItsMessage()
    {
        Assert.Equal("count must be positive", CliException.From(new ArgumentException("count must be positive")).Message);
    }
}
