using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Transit.RideCodes.KeyStore;

/// <summary>
/// The operator's device certificate authority: issues the X.509 client certificates with which gates
/// authenticate to clearing, and the clearing server's TLS certificate. ECDSA P-256 throughout, as TLS expects.
/// </summary>
public sealed class DeviceCertificateAuthority : IDisposable
{
    /// <summary>OU of device client certificates; clearing reads the device id from the CN.</summary>
    public const string DeviceUnit = "transit-device";

    private readonly X509Certificate2 _certificate;

    private DeviceCertificateAuthority(X509Certificate2 certificate) => _certificate = certificate;

    /// <summary>The CA certificate (with its private key).</summary>
    public X509Certificate2 Certificate => _certificate;

    /// <summary>Creates a new self-signed CA valid for <paramref name="years"/> years.</summary>
    public static DeviceCertificateAuthority Create(string operatorName, DateTimeOffset now, int years = 20)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={operatorName} device CA,O=Transit", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return new DeviceCertificateAuthority(request.CreateSelfSigned(now.AddDays(-1), now.AddYears(years)));
    }

    /// <summary>Loads the CA from PEM files.</summary>
    public static DeviceCertificateAuthority Load(string certificatePemPath, string keyPemPath) =>
        new(X509Certificate2.CreateFromPemFile(certificatePemPath, keyPemPath));

    /// <summary>Writes the certificate and key as PEM.</summary>
    public void Save(string certificatePemPath, string keyPemPath)
    {
        AtomicFile.WriteAllText(certificatePemPath, _certificate.ExportCertificatePem());
        using var key = _certificate.GetECDsaPrivateKey()!;
        AtomicFile.WriteAllText(keyPemPath, key.ExportPkcs8PrivateKeyPem(), secret: true);
    }

    /// <summary>Issues a TLS client certificate for a gate or validator.</summary>
    public X509Certificate2 IssueDeviceCertificate(string deviceId, string operatorId, DateTimeOffset now, int years = 5)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deviceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(operatorId);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(
            new X500DistinguishedName($"CN={Escape(deviceId)},OU={DeviceUnit},O={Escape(operatorId)}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        return Sign(request, key, now, years);
    }

    /// <summary>Issues a TLS server certificate for the clearing server.</summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> hostNames, DateTimeOffset now, int years = 5)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var names = hostNames.ToList();
        var request = new CertificateRequest($"CN={Escape(names.FirstOrDefault() ?? "localhost")},O=Transit clearing", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        return Sign(request, key, now, years);
    }

    /// <summary>Writes a certificate and its private key as PEM files.</summary>
    public static void SaveWithKey(X509Certificate2 certificate, string certificatePemPath, string keyPemPath)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        AtomicFile.WriteAllText(certificatePemPath, certificate.ExportCertificatePem());
        using var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("the certificate has no private key", nameof(certificate));
        AtomicFile.WriteAllText(keyPemPath, key.ExportPkcs8PrivateKeyPem(), secret: true);
    }

    /// <summary>True when <paramref name="certificate"/> chains to this CA (signature and validity only).</summary>
    public bool Issued(X509Certificate2 certificate, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        return chain.Build(certificate);
    }

    /// <inheritdoc />
    public void Dispose() => _certificate.Dispose();

    private X509Certificate2 Sign(CertificateRequest request, ECDsa key, DateTimeOffset now, int years)
    {
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_certificate, true, false));
        var notAfter = now.AddYears(years);
        if (notAfter > _certificate.NotAfter)
        {
            notAfter = _certificate.NotAfter;
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(_certificate, now.AddMinutes(-5), notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    private static string Escape(string value) =>
        value.IndexOfAny([',', '+', '"', '\\', '<', '>', ';', '=']) >= 0 ? $"\"{value.Replace("\"", "\\\"", StringComparison.Ordinal)}\"" : value;
}
