using System.Globalization;
using Microsoft.Extensions.Configuration;
using Transit.DeviceApi;
using Transit.RideCodes;

namespace Transit.GateAgent.Configuration;

/// <summary>The gate's configuration is unusable; <see cref="Exception.Message"/> lists every problem by setting name.</summary>
public sealed class GateConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GateConfigurationException()
    {
    }

    /// <summary>Creates the exception with a message naming the settings.</summary>
    public GateConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public GateConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Reads the gate's settings from a JSON file and <c>TRANSIT_GATE_</c> environment variables, and checks them.</summary>
public static class GateSettingsLoader
{
    /// <summary>Prefix of environment variables that override the file, e.g. <c>TRANSIT_GATE_Device__Id</c>.</summary>
    public const string EnvironmentPrefix = "TRANSIT_GATE_";

    /// <summary>Builds the configuration: the file first, then the environment.</summary>
    public static IConfigurationRoot BuildConfiguration(string configPath)
    {
        var full = Path.GetFullPath(configPath);
        if (!File.Exists(full))
        {
            throw new GateConfigurationException($"configuration file {full} does not exist");
        }

        try
        {
            return new ConfigurationBuilder()
                .AddJsonFile(full, optional: false, reloadOnChange: false)
                .AddEnvironmentVariables(EnvironmentPrefix)
                .Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            throw new GateConfigurationException($"configuration file {full} is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Binds, resolves relative paths against <paramref name="baseDirectory"/> and validates.</summary>
    /// <exception cref="GateConfigurationException">One or more settings are missing or out of range.</exception>
    public static GateSettings Load(IConfiguration configuration, string baseDirectory)
    {
        var settings = new GateSettings();
        try
        {
            configuration.Bind(settings);
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and the value it could not convert.
            throw new GateConfigurationException($"invalid configuration: {ex.Message}", ex);
        }

        Resolve(settings, baseDirectory);
        var errors = Validate(settings);
        if (errors.Count > 0)
        {
            throw new GateConfigurationException("invalid configuration:\n  " + string.Join("\n  ", errors));
        }

        if (settings.Clearing.Url is { Length: > 0 } url && !url.EndsWith('/'))
        {
            // Relative request paths ("taps", "keyset") must land under the base, not replace its last segment.
            settings.Clearing.Url = url + "/";
        }

        return settings;
    }

    /// <summary>Every problem with <paramref name="s"/>, each naming its setting; empty when usable.</summary>
    public static List<string> Validate(GateSettings s)
    {
        var errors = new List<string>();
        void Require(string? value, string name, string what)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add($"{name} is required ({what})");
            }
        }

        void Range(int value, string name, int min, int max)
        {
            if (value < min || value > max)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{name} must be between {min} and {max} (got {value})"));
            }
        }

        void Try(Action parse)
        {
            try
            {
                parse();
            }
            catch (FormatException ex)
            {
                errors.Add(ex.Message);
            }
        }

        void FileMustExist(string? path, string name)
        {
            if (!string.IsNullOrWhiteSpace(path) && !File.Exists(path))
            {
                errors.Add($"{name}: file {path} does not exist");
            }
        }

        Require(s.Device.Id, "Device:Id", "the device id, equal to the client certificate's CN");
        Require(s.Device.OperatorId, "Device:OperatorId", "the operator the device belongs to");
        if (string.IsNullOrWhiteSpace(s.Device.Mode))
        {
            errors.Add("Device:Mode is required (metro-entry, metro-exit, bus or bus-exit)");
        }
        else if (!TapModes.TryParse(s.Device.Mode, out var mode))
        {
            errors.Add($"Device:Mode '{s.Device.Mode}' is not a mode (expected metro-entry, metro-exit, bus or bus-exit)");
        }
        else if (!mode.OnBus())
        {
            Require(s.Device.StationId, "Device:StationId", "the GTFS stop_id of the station, for metro modes");
        }
        else
        {
            Require(s.Device.RouteId, "Device:RouteId", "the GTFS route_id the bus runs; the driver console can change it later");
        }

        Range(s.Verification.MaxAgeSeconds, "Verification:MaxAgeSeconds", 1, 3600);
        Range(s.Verification.MaxAheadSeconds, "Verification:MaxAheadSeconds", 0, 3600);
        Range(s.Verification.PassbackSeconds, "Verification:PassbackSeconds", 0, 86_400);

        Require(s.Trust.RootPublicKey, "Trust:RootPublicKey", "path of root.pub.json");
        FileMustExist(s.Trust.RootPublicKey, "Trust:RootPublicKey");
        Require(s.Trust.KeySet, "Trust:KeySet", "path of the initial signed key set, keyset.json");
        FileMustExist(s.Trust.KeySet, "Trust:KeySet");
        FileMustExist(s.Trust.DenyList, "Trust:DenyList");
        var issuerIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < s.Trust.Issuers.Count; i++)
        {
            var issuer = s.Trust.Issuers[i];
            var at = $"Trust:Issuers:{i}";
            if (!IssuerIds.IsValid(issuer.Id))
            {
                errors.Add($"{at}:Id '{issuer.Id}' is not an issuer id ({IssuerIds.Rule})");
            }
            else if (!issuerIds.Add(issuer.Id!))
            {
                errors.Add($"{at}:Id '{issuer.Id}' is listed twice");
            }

            Require(issuer.RootPublicKey, $"{at}:RootPublicKey", "path of the issuer's root public key");
            FileMustExist(issuer.RootPublicKey, $"{at}:RootPublicKey");
            Require(issuer.KeySet, $"{at}:KeySet", "path of the issuer's signed key set");
            FileMustExist(issuer.KeySet, $"{at}:KeySet");
            FileMustExist(issuer.DenyList, $"{at}:DenyList");
        }

        if (!string.IsNullOrWhiteSpace(s.Clearing.Url))
        {
            if (!Uri.TryCreate(s.Clearing.Url, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps)
            {
                errors.Add($"Clearing:Url '{s.Clearing.Url}' must be an absolute https:// URL (the device API is HTTPS only)");
            }

            Require(s.Clearing.ClientCertificate, "Clearing:ClientCertificate", "PEM client certificate from the device CA");
            FileMustExist(s.Clearing.ClientCertificate, "Clearing:ClientCertificate");
            Require(s.Clearing.ClientKey, "Clearing:ClientKey", "PEM private key of the client certificate");
            FileMustExist(s.Clearing.ClientKey, "Clearing:ClientKey");
            FileMustExist(s.Clearing.ServerCaCertificate, "Clearing:ServerCaCertificate");
        }

        Range(s.Clearing.UploadBatchSize, "Clearing:UploadBatchSize", 1, 5000);
        Range(s.Clearing.UploadDelayMillis, "Clearing:UploadDelayMillis", 0, 600_000);
        Range(s.Clearing.SyncIntervalSeconds, "Clearing:SyncIntervalSeconds", 1, 86_400);
        Range(s.Clearing.StatusIntervalSeconds, "Clearing:StatusIntervalSeconds", 1, 86_400);
        Range(s.Clearing.BackoffInitialMillis, "Clearing:BackoffInitialMillis", 1, 3_600_000);
        Range(s.Clearing.BackoffMaxMillis, "Clearing:BackoffMaxMillis", s.Clearing.BackoffInitialMillis, 86_400_000);
        Range(s.Clearing.RequestTimeoutSeconds, "Clearing:RequestTimeoutSeconds", 1, 600);
        Range(s.Clearing.AlarmAfterFailures, "Clearing:AlarmAfterFailures", 1, 1000);

        Require(s.Journal.Path, "Journal:Path", "the SQLite tap journal file");
        Range(s.Journal.RetentionDays, "Journal:RetentionDays", 1, 3650);
        Range(s.Journal.PruneIntervalMinutes, "Journal:PruneIntervalMinutes", 1, 10_080);
        if (s.Journal.MinFreeBytes < 0)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"Journal:MinFreeBytes must be 0 or more (got {s.Journal.MinFreeBytes})"));
        }

        if (s.Scanner.Tcp.Port is { } tcp)
        {
            Range(tcp, "Scanner:Tcp:Port", 0, 65535);
        }

        for (var i = 0; i < s.Scanner.Serial.Count; i++)
        {
            Require(s.Scanner.Serial[i].Device, $"Scanner:Serial:{i}:Device", "the TTY device");
            if (!SerialLineSpeeds.TryGet(s.Scanner.Serial[i].Baud, out _))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"Scanner:Serial:{i}:Baud {s.Scanner.Serial[i].Baud} is not a standard line speed (e.g. 9600, 115200)"));
            }
        }

        for (var i = 0; i < s.Scanner.InputEvents.Count; i++)
        {
            Require(s.Scanner.InputEvents[i].Device, $"Scanner:InputEvents:{i}:Device", "the /dev/input event device");
        }

        if (s.Scanner.Tcp.Port is null && s.Scanner.Serial.Count == 0 && s.Scanner.InputEvents.Count == 0)
        {
            errors.Add("Scanner: no input configured (set Scanner:Serial, Scanner:InputEvents or Scanner:Tcp:Port)");
        }

        if (s.Hardware.Kind is not ("simulated" or "gpio"))
        {
            errors.Add($"Hardware:Kind '{s.Hardware.Kind}' is not a kind (expected simulated or gpio)");
        }
        else if (s.Hardware.Kind == "gpio")
        {
            Require(s.Hardware.Gpio.Chip, "Hardware:Gpio:Chip", "the GPIO chip, e.g. gpiochip0");
            foreach (var (line, name) in new[]
            {
                (s.Hardware.Gpio.Barrier, "Barrier"), (s.Hardware.Gpio.Green, "Green"), (s.Hardware.Gpio.Red, "Red"),
                (s.Hardware.Gpio.Amber, "Amber"), (s.Hardware.Gpio.Buzzer, "Buzzer"),
            })
            {
                if (line is { } offset)
                {
                    Range(offset, $"Hardware:Gpio:{name}", 0, 1023);
                }
                else if (name is "Barrier" or "Green" or "Red")
                {
                    errors.Add($"Hardware:Gpio:{name} is required (the line offset on {s.Hardware.Gpio.Chip})");
                }
            }
        }

        if (s.Hardware.DisplayDevice is { } display && LcdAddress.IsLcd(display))
        {
            Try(() => LcdAddress.Parse(display));
            Try(() => LcdAddress.ParseSize(s.Hardware.DisplaySize));
        }

        Range(s.Hardware.BarrierOpenMillis, "Hardware:BarrierOpenMillis", 100, 60_000);
        Range(s.Hardware.RefusalShowMillis, "Hardware:RefusalShowMillis", 100, 60_000);
        if (s.Status.Port is { } status)
        {
            Range(status, "Status:Port", 0, 65535);
        }

        if (s.Simulation.Clock is not ("system" or "manual"))
        {
            errors.Add($"Simulation:Clock '{s.Simulation.Clock}' is not a clock (expected system or manual)");
        }
        else if (s.Simulation.Clock == "manual" && s.Scanner.Tcp.Port is null)
        {
            errors.Add("Simulation:Clock manual needs Scanner:Tcp:Port (the simulation sets the clock through that input)");
        }

        errors.AddRange(s.Gps.Validate(s));
        return errors;
    }

    private static void Resolve(GateSettings s, string baseDirectory)
    {
        string? Full(string? path) => string.IsNullOrWhiteSpace(path) ? path : Path.GetFullPath(path, baseDirectory);
        s.Trust.RootPublicKey = Full(s.Trust.RootPublicKey);
        s.Trust.KeySet = Full(s.Trust.KeySet);
        s.Trust.DenyList = Full(s.Trust.DenyList);
        foreach (var issuer in s.Trust.Issuers)
        {
            issuer.RootPublicKey = Full(issuer.RootPublicKey);
            issuer.KeySet = Full(issuer.KeySet);
            issuer.DenyList = Full(issuer.DenyList);
        }
        s.Clearing.ClientCertificate = Full(s.Clearing.ClientCertificate);
        s.Clearing.ClientKey = Full(s.Clearing.ClientKey);
        s.Clearing.ServerCaCertificate = Full(s.Clearing.ServerCaCertificate);
        s.Journal.Path = Full(s.Journal.Path);
        s.Gps.StopsFile = Full(s.Gps.StopsFile);
    }
}
