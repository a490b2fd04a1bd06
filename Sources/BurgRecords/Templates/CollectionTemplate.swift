/// Ready-made collections for the organisations Burg grew from (`burg init --template clinic|erp`).
/// Access rules are left at superusers only: opening them is a decision for the operator.
public enum CollectionTemplate: String, Sendable, CaseIterable {
    case clinic, erp

    public var summary: String {
        switch self {
        case .clinic: "patients (with photos), consultations and procedures"
        case .erp: "storage locations, customer groups and production orders"
        }
    }

    /// The collections, in creation order (relation targets first).
    public var collections: [CollectionModel] {
        switch self {
        case .clinic: Self.clinicCollections
        case .erp: Self.erpCollections
        }
    }

    // MARK: Building blocks

    private static func text(_ name: String, required: Bool = false, unique: Bool = false, max: Double? = nil, searchable: Bool = false) -> Field {
        var field = Field(name: name, type: .text)
        field.required = required
        field.unique = unique
        field.max = max
        field.searchable = searchable
        return field
    }

    private static func field(_ name: String, _ type: FieldType, required: Bool = false) -> Field {
        var field = Field(name: name, type: type)
        field.required = required
        return field
    }

    private static func select(_ name: String, _ values: [String], required: Bool = false) -> Field {
        var field = Field(name: name, type: .select)
        field.values = values
        field.required = required
        return field
    }

    private static func number(_ name: String, min: Double? = nil, max: Double? = nil, onlyInt: Bool = false, required: Bool = false) -> Field {
        var field = Field(name: name, type: .number)
        field.min = min
        field.max = max
        field.onlyInt = onlyInt
        field.required = required
        return field
    }

    private static func relation(_ name: String, to target: String, required: Bool = false) -> Field {
        var field = Field(name: name, type: .relation)
        field.collection = target
        field.required = required
        return field
    }

    private static func files(_ name: String, max count: Int, maxSize: Int, types: [String]) -> Field {
        var field = Field(name: name, type: .file)
        field.maxSelect = count
        field.maxSize = maxSize
        field.mimeTypes = types
        // Patient photos and business documents: served only with a file token to whoever may view the record.
        field.protected = true
        return field
    }

    private static let images = ["image/jpeg", "image/png", "image/webp"]

    // MARK: Clinic

    private static let clinicCollections: [CollectionModel] = [
        CollectionModel(
            name: "patients",
            fields: [
                text("patient_number", required: true, unique: true, max: 32),
                text("first_name", required: true, max: 100, searchable: true),
                text("last_name", required: true, max: 100, searchable: true),
                field("birth_date", .date),
                select("sex", ["female", "male", "diverse", "unknown"]),
                field("email", .email),
                text("phone", max: 40),
                text("address", max: 300),
                text("insurance_provider", max: 100),
                text("insurance_number", max: 40),
                field("consent", .bool),
                field("consent_date", .date),
                text("notes", max: 20_000, searchable: true),
                files("photos", max: 20, maxSize: 50 << 20, types: images),
            ],
            indexes: [CollectionModel.Index(name: "name", fields: ["last_name", "first_name"]), CollectionModel.Index(name: "birth_date", fields: ["birth_date"])],
            id: "pbc_clinic_patients"),
        CollectionModel(
            name: "consultations",
            fields: [
                relation("patient", to: "patients", required: true),
                field("date", .date, required: true),
                text("reason", max: 500, searchable: true),
                text("diagnosis", max: 2_000, searchable: true),
                text("surgeon", max: 100),
                text("notes", max: 20_000),
                files("attachments", max: 20, maxSize: 100 << 20, types: images + ["application/pdf"]),
            ],
            indexes: [CollectionModel.Index(name: "patient_date", fields: ["patient", "date"])],
            id: "pbc_clinic_consults"),
        CollectionModel(
            name: "procedures",
            fields: [
                relation("patient", to: "patients", required: true),
                relation("consultation", to: "consultations"),
                field("date", .date, required: true),
                select("procedure_type", ["consultation", "injection", "laser", "minor_surgery", "major_surgery", "imaging", "follow_up"], required: true),
                text("surgeon", required: true, max: 100),
                select("outcome", ["planned", "successful", "complications", "cancelled"], required: true),
                text("notes", max: 20_000),
            ],
            indexes: [CollectionModel.Index(name: "patient_date", fields: ["patient", "date"]), CollectionModel.Index(name: "type", fields: ["procedure_type"])],
            id: "pbc_clinic_procedures"),
    ]

    // MARK: ERP

    private static let erpCollections: [CollectionModel] = [
        CollectionModel(
            name: "storage_locations",
            fields: [
                text("code", required: true, unique: true, max: 32),
                text("name", required: true, max: 200, searchable: true),
                text("address", max: 300),
                number("capacity", min: 0, onlyInt: true),
                field("active", .bool),
            ],
            id: "pbc_erp_locations"),
        CollectionModel(
            name: "customer_groups",
            fields: [
                text("name", required: true, unique: true, max: 100),
                number("discount_percent", min: 0, max: 100),
                text("description", max: 2_000),
            ],
            id: "pbc_erp_groups"),
        CollectionModel(
            name: "production_orders",
            fields: [
                text("order_number", required: true, unique: true, max: 32),
                text("product", required: true, max: 200, searchable: true),
                number("quantity", min: 1, onlyInt: true, required: true),
                select("status", ["planned", "in_progress", "on_hold", "completed", "cancelled"], required: true),
                field("due_date", .date),
                relation("customer_group", to: "customer_groups"),
                relation("storage_location", to: "storage_locations"),
                text("notes", max: 20_000),
            ],
            indexes: [CollectionModel.Index(name: "status_due", fields: ["status", "due_date"])],
            id: "pbc_erp_orders"),
    ]
}
