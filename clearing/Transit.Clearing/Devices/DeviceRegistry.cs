using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using Transit.Clearing.Trust;
using Transit.RideCodes.KeyStore;
using Transit.DeviceApi;

namespace Transit.Clearing.Devices;

/// <summary>A registered gate or validator.</summary>
public sealed record RegisteredDevice(
    string DeviceId, string OperatorId, string Mode, string? StationId, string? StopId, string? RouteId, DateTimeOffset? RevokedAt, int ConfigVersion);

/// <summary>What <c>transit devices add</c> asks for.</summary>
public sealed record DeviceRegistration(string DeviceId, string OperatorId, string? Mode, string? StationId, string? StopId, string? RouteId);

/// <summary>A registration that cannot be done; the message says why.</summary>
public sealed class DeviceRegistrationException(string message) : Exception(message);

/// <summary>
/// Device registration, certificates and revocation. A device is known by the SHA-256 thumbprint of its client
/// certificate, so a second certificate with the same CN (stolen CA key aside) is still refused.
/// </summary>
public sealed class DeviceRegistry(NpgsqlDataSource dataSource, OperatorKeys keys, ClearingOptions options, TimeProvider time)
{
    /// <summary>The <c>type</c> of a signed device configuration.</summary>
    public const string ConfigType = Transit.RideCodes.OnlineKey.DeviceConfigType;

    /// <summary>
    /// Registers a device, issues its client certificate and writes the device's TLS files under the names the gate
    /// expects in <c>/etc/transit-gate/</c> (<c>device.crt.pem</c>, <c>device.key.pem</c>, <c>ca.crt.pem</c>) into
    /// the folder <c><paramref name="outputFolder"/>/DEVICE-ID</c>.
    /// </summary>
    public async Task<(RegisteredDevice Device, string CertificatePath, string KeyPath)> AddAsync(
        DeviceRegistration registration, string outputFolder, CancellationToken cancellation)
    {
        var mode = registration.Mode ?? (registration.StationId is not null ? TapMode.MetroEntry.Name() : TapMode.Bus.Name());
        if (!TapModes.TryParse(mode, out var tapMode))
        {
            throw new DeviceRegistrationException($"--mode '{mode}' is not {string.Join(", ", TapModes.Names)}");
        }

        var onBus = tapMode.OnBus();
        if (onBus ? registration.RouteId is null : registration.StationId is null)
        {
            throw new DeviceRegistrationException(onBus ? "a bus validator needs --route (and usually --stop)" : "a metro gate needs --station");
        }

        if (string.IsNullOrWhiteSpace(registration.DeviceId) || registration.DeviceId.Length > 64)
        {
            throw new DeviceRegistrationException("--id must be 1 to 64 characters");
        }

        // The id names the folder its certificate is written to: no path of its own, nothing hidden, nothing unprintable.
        if (registration.DeviceId.StartsWith('.') || registration.DeviceId.Any(c => c is '/' or '\\' || char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            throw new DeviceRegistrationException("--id may not start with '.' nor hold '/', '\\', spaces or control characters");
        }

        await Access.FeedReferences.CheckDeviceAsync(dataSource, registration.OperatorId, registration.StationId, registration.RouteId, registration.StopId, cancellation);

        var now = time.GetUtcNow();
        using var authority = keys.OpenAuthority();
        using var certificate = authority.IssueDeviceCertificate(registration.DeviceId, registration.OperatorId, now);
        var device = new RegisteredDevice(
            registration.DeviceId, registration.OperatorId, mode, registration.StationId, registration.StopId, registration.RouteId, null, 1);
        var config = SignConfig(device, now);
        await using (var insert = dataSource.CreateCommand("""
            INSERT INTO devices (device_id, operator_id, mode, station_id, stop_id, route_id, cert_thumbprint, cert_not_after, config_document)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (device_id) DO NOTHING
            """))
        {
            insert.Parameters.Add(new() { Value = device.DeviceId });
            insert.Parameters.Add(new() { Value = device.OperatorId });
            insert.Parameters.Add(new() { Value = mode });
            insert.Parameters.Add(new() { Value = (object?)device.StationId ?? DBNull.Value });
            insert.Parameters.Add(new() { Value = (object?)device.StopId ?? DBNull.Value });
            insert.Parameters.Add(new() { Value = (object?)device.RouteId ?? DBNull.Value });
            insert.Parameters.Add(new() { Value = Thumbprint(certificate) });
            insert.Parameters.Add(new() { Value = certificate.NotAfter.ToUniversalTime() });
            insert.Parameters.Add(new() { Value = config });
            if (await insert.ExecuteNonQueryAsync(cancellation) == 0)
            {
                throw new DeviceRegistrationException($"device {device.DeviceId} is already registered");
            }
        }

        var bundle = Path.Combine(outputFolder, device.DeviceId);
        Directory.CreateDirectory(bundle);
        var certificatePath = Path.Combine(bundle, "device.crt.pem");
        var keyPath = Path.Combine(bundle, "device.key.pem");
        DeviceCertificateAuthority.SaveWithKey(certificate, certificatePath, keyPath);
        await File.WriteAllTextAsync(Path.Combine(bundle, "ca.crt.pem"), authority.Certificate.ExportCertificatePem(), cancellation);
        return (device, Path.GetFullPath(certificatePath), Path.GetFullPath(keyPath));
    }

    /// <summary>Revokes a device: its certificate is refused from now on. False when no such device.</summary>
    public async Task<bool> RevokeAsync(string deviceId, CancellationToken cancellation)
    {
        await using var command = dataSource.CreateCommand("UPDATE devices SET revoked_at = COALESCE(revoked_at, $2) WHERE device_id = $1");
        command.Parameters.Add(new() { Value = deviceId });
        command.Parameters.Add(new() { Value = time.GetUtcNow().UtcDateTime });
        return await command.ExecuteNonQueryAsync(cancellation) == 1;
    }

    /// <summary>Every device, optionally of one operator.</summary>
    public async Task<IReadOnlyList<RegisteredDevice>> ListAsync(string? operatorId, CancellationToken cancellation)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT device_id, operator_id, mode, station_id, stop_id, route_id, revoked_at, config_version FROM devices
            WHERE $1::text IS NULL OR operator_id = $1 ORDER BY device_id
            """);
        command.Parameters.Add(new() { Value = (object?)operatorId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var devices = new List<RegisteredDevice>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            devices.Add(Read(reader));
        }

        return devices;
    }

    /// <summary>The device holding <paramref name="certificate"/>, or null when it is not registered.</summary>
    public async Task<RegisteredDevice?> FindAsync(X509Certificate2 certificate, CancellationToken cancellation)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT device_id, operator_id, mode, station_id, stop_id, route_id, revoked_at, config_version FROM devices WHERE cert_thumbprint = $1
            """);
        command.Parameters.Add(new() { Value = Thumbprint(certificate) });
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        return await reader.ReadAsync(cancellation) ? Read(reader) : null;
    }

    /// <summary>The device's signed configuration document (JSON envelope).</summary>
    public async Task<string> ConfigDocumentAsync(string deviceId, CancellationToken cancellation)
    {
        await using var command = dataSource.CreateCommand("SELECT config_document FROM devices WHERE device_id = $1");
        command.Parameters.Add(new() { Value = deviceId });
        return (string)(await command.ExecuteScalarAsync(cancellation))!;
    }

    /// <summary>SHA-256 of the certificate's DER bytes, lower-case hex.</summary>
    public static string Thumbprint(X509Certificate2 certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    private string SignConfig(RegisteredDevice device, DateTimeOffset now)
    {
        var payload = new DeviceConfig(
            device.ConfigVersion, device.DeviceId, device.OperatorId, device.Mode, device.StationId, device.RouteId,
            options.MaxAgeSeconds, options.MaxAheadSeconds, options.PassbackSeconds, DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds()));
        return keys.Sign(ConfigType, JsonSerializer.SerializeToUtf8Bytes(payload, DeviceApiJson.Default.DeviceConfig)).ToJson();
    }

    private static RegisteredDevice Read(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
        reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6), reader.GetInt32(7));
}
