namespace Transit.FareRules;

/// <summary>
/// The stable codes of <see cref="FeedNotice"/>. Where MobilityData's gtfs-validator has a notice for the same problem
/// the code is the same; docs/fare-rules.md lists each code with its severity.
/// </summary>
public static class NoticeCodes
{
    /// <summary>The CSV syntax is broken (an unclosed quote, text after a closing quote).</summary>
    public const string CsvParsingFailed = "csv_parsing_failed";

    /// <summary>A row has a different number of fields than the header.</summary>
    public const string InvalidRowLength = "invalid_row_length";

    /// <summary>A column name appears twice in a header.</summary>
    public const string DuplicatedColumn = "duplicated_column";

    /// <summary>A file has no header or no data rows.</summary>
    public const string EmptyFile = "empty_file";

    /// <summary>A file that the others depend on is missing.</summary>
    public const string MissingRequiredFile = "missing_required_file";

    /// <summary>A required column is missing from a header.</summary>
    public const string MissingRequiredColumn = "missing_required_column";

    /// <summary>A required (or conditionally required) field is empty.</summary>
    public const string MissingRequiredField = "missing_required_field";

    /// <summary>A field is not an integer.</summary>
    public const string InvalidInteger = "invalid_integer";

    /// <summary>A field is not a GTFS time (H:MM:SS).</summary>
    public const string InvalidTime = "invalid_time";

    /// <summary>A field is not a GTFS date (YYYYMMDD).</summary>
    public const string InvalidDate = "invalid_date";

    /// <summary>A timezone is not a known IANA timezone.</summary>
    public const string InvalidTimezone = "invalid_timezone";

    /// <summary>A currency is not an ISO 4217 code.</summary>
    public const string InvalidCurrency = "invalid_currency";

    /// <summary>An amount is not a decimal number or has more decimals than its currency.</summary>
    public const string InvalidCurrencyAmount = "invalid_currency_amount";

    /// <summary>An enumerated field has a value the specification does not define.</summary>
    public const string UnexpectedEnumValue = "unexpected_enum_value";

    /// <summary>A number is outside its allowed range (a negative rule_priority, a duration_limit of 0).</summary>
    public const string NumberOutOfRange = "number_out_of_range";

    /// <summary>Two rows have the same primary key.</summary>
    public const string DuplicateKey = "duplicate_key";

    /// <summary>A field refers to an id that its target file does not define.</summary>
    public const string ForeignKeyViolation = "foreign_key_violation";

    /// <summary>
    /// A fare leg rule names a timeframe group that timeframes.txt does not define. A warning, not an error: no timeframe
    /// row exists, so the rule can never match and pricing ignores it (the MBTA feed has 185 such rules).
    /// </summary>
    public const string FareLegRuleTimeframeNotFound = "fare_leg_rule_timeframe_not_found";

    /// <summary>A calendar's end_date is before its start_date.</summary>
    public const string StartAndEndRangeOutOfOrder = "start_and_end_range_out_of_order";

    /// <summary>Two timeframes of one timeframe_group_id and service_id overlap.</summary>
    public const string TimeframeOverlap = "timeframe_overlap";

    /// <summary>A timeframe has a start_time without end_time or the reverse.</summary>
    public const string TimeframeOnlyStartOrEndTime = "timeframe_only_start_or_end_time";

    /// <summary>A timeframe's start_time or end_time is after 24:00:00.</summary>
    public const string TimeframeTimeGreaterThanTwentyFourHours = "timeframe_time_greater_than_twenty_four_hours";

    /// <summary>A transfer rule with equal from and to leg groups has no transfer_count.</summary>
    public const string FareTransferRuleMissingTransferCount = "fare_transfer_rule_missing_transfer_count";

    /// <summary>A transfer rule with different from and to leg groups has a transfer_count.</summary>
    public const string FareTransferRuleForbiddenTransferCount = "fare_transfer_rule_forbidden_transfer_count";

    /// <summary>A transfer_count is 0 or below -1.</summary>
    public const string FareTransferRuleInvalidTransferCount = "fare_transfer_rule_invalid_transfer_count";

    /// <summary>A transfer rule has a duration_limit without duration_limit_type.</summary>
    public const string FareTransferRuleDurationLimitWithoutType = "fare_transfer_rule_duration_limit_without_type";

    /// <summary>A transfer rule has a duration_limit_type without duration_limit.</summary>
    public const string FareTransferRuleDurationLimitTypeWithoutDurationLimit = "fare_transfer_rule_duration_limit_type_without_duration_limit";

    /// <summary>More than one rider category has is_default_fare_category=1.</summary>
    public const string MoreThanOneDefaultRiderCategory = "more_than_one_default_rider_category";

    /// <summary>A fare product is eligible for several rider categories of which more than one is the default.</summary>
    public const string FareProductWithMultipleDefaultRiderCategories = "fare_product_with_multiple_default_rider_categories";

    /// <summary>A fare product is eligible for several rider categories of which none is the default.</summary>
    public const string FareProductWithoutDefaultRiderCategory = "fare_product_without_default_rider_category";

    /// <summary>Networks come both from routes.network_id and from route_networks.txt or networks.txt.</summary>
    public const string RouteNetworksSpecifiedInMoreThanOneFile = "route_networks_specified_in_more_than_one_file";

    /// <summary>A join rule joins two different networks, which the specification does not yet allow.</summary>
    public const string FareLegJoinRuleNetworkMismatch = "fare_leg_join_rule_network_mismatch";

    /// <summary>Fare products use more than one currency; a journey mixing them cannot be totalled.</summary>
    public const string MultipleCurrencies = "multiple_currencies";

    /// <summary>Fare leg rules of a network use to_area_id while some of its routes have no tap-out (buses): the destination is unknown at boarding.</summary>
    public const string FareNeedsDestinationWithoutTapOut = "fare_needs_destination_without_tap_out";

    /// <summary>A fare cap has neither amount nor ride_count.</summary>
    public const string FareCapMissingLimit = "fare_cap_missing_limit";

    /// <summary>A fare cap has both amount and ride_count.</summary>
    public const string FareCapAmountAndRideCount = "fare_cap_amount_and_ride_count";

    /// <summary>A rolling fare cap has no period_duration.</summary>
    public const string FareCapMissingPeriodDuration = "fare_cap_missing_period_duration";

    /// <summary>A fare cap that is not rolling has a period_duration.</summary>
    public const string FareCapForbiddenPeriodDuration = "fare_cap_forbidden_period_duration";
}
