using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace Transit.Clearing.Tests.Riders;

[CollectionDefinition(Name)]
public sealed class RiderCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "riders";
}

/// <summary>A rider as the tests play one: an account, its token, and a client presenting the token.</summary>
public sealed record TestRider(string Account, string Token, HttpClient Client)
{
    /// <summary>Signs up through the API.</summary>
    public static async Task<TestRider> SignUpAsync(ClearingWorld world)
    {
        using var anonymous = new HttpClient { BaseAddress = world.ApiUrl };
        using var response = await anonymous.PostAsync("/rider/v1/signup", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"signup answered {(int)response.StatusCode}: {body}");
        var json = JsonDocument.Parse(body).RootElement;
        var token = json.GetProperty("token").GetString()!;
        // The world's own phone for this account, for taps made behind the API's back: in the API's category (the
        // feed's default), since a longer one would not fit beside the account.
        world.Rider(json.GetProperty("account").GetString()!, category: "");
        return new TestRider(json.GetProperty("account").GetString()!, token, world.ApiClient(token));
    }

    /// <summary>Asks for a credential for <paramref name="phoneKey"/> (SPKI of a fresh key when null).</summary>
    public Task<HttpResponseMessage> RequestCredentialAsync(string? phoneKey = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Client.PostAsJsonAsync("/rider/v1/credential", new { phoneKey = phoneKey ?? Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()) });
    }
}

/// <summary>Answers as JSON, and problems' fields.</summary>
public static class Answers
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response, System.Net.HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static HttpClient WithToken(this HttpClient client, string token)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
