namespace Transit.Clearing.Tests;

// The collections that share one throwaway cluster (Transit.Testing's PostgresFixture) among their tests.
[CollectionDefinition(Name)]
public sealed class IngestCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "ingest";
}

[CollectionDefinition(Name)]
public sealed class ClearingCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "clearing";
}

[CollectionDefinition(Name)]
public sealed class ProcessCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "processes";
}
