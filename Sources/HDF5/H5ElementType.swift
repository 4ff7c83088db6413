// H5ElementType: the numeric element types Ablate stores (float32, float64, uint8, uint16, int32, int64).
import CHDF5

/// The element types of Ablate's datasets, with their fixed little-endian file types.
public enum H5ElementType: String, Sendable, CaseIterable {
    case float32, float64, uint8, uint16, int32, int64

    /// The file (on-disk) type: explicit little-endian, so files are identical on every host.
    var fileType: hid_t {
        switch self {
        case .float32: ablate_h5t_ieee_f32le()
        case .float64: ablate_h5t_ieee_f64le()
        case .uint8: ablate_h5t_std_u8le()
        case .uint16: ablate_h5t_std_u16le()
        case .int32: ablate_h5t_std_i32le()
        case .int64: ablate_h5t_std_i64le()
        }
    }

    /// The in-memory type of the host.
    var nativeType: hid_t {
        switch self {
        case .float32: ablate_h5t_native_float()
        case .float64: ablate_h5t_native_double()
        case .uint8: ablate_h5t_native_uint8()
        case .uint16: ablate_h5t_native_uint16()
        case .int32: ablate_h5t_native_int32()
        case .int64: ablate_h5t_native_int64()
        }
    }

    /// Classifies a stored datatype; nil for anything Ablate does not store (strings, compounds, …).
    static func classify(_ type: hid_t) -> H5ElementType? {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_FLOAT:
            return size == 4 ? .float32 : size == 8 ? .float64 : nil
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) == H5T_SGN_2
            switch (size, signed) {
            case (1, false): return .uint8
            case (2, false): return .uint16
            case (4, true): return .int32
            case (8, true): return .int64
            default: return nil
            }
        default:
            return nil
        }
    }
}

/// A Swift type that maps one-to-one to an `H5ElementType`.
public protocol H5Scalar: Sendable {
    static var h5Type: H5ElementType { get }
}

extension Float: H5Scalar { public static var h5Type: H5ElementType { .float32 } }
extension Double: H5Scalar { public static var h5Type: H5ElementType { .float64 } }
extension UInt8: H5Scalar { public static var h5Type: H5ElementType { .uint8 } }
extension UInt16: H5Scalar { public static var h5Type: H5ElementType { .uint16 } }
extension Int32: H5Scalar { public static var h5Type: H5ElementType { .int32 } }
extension Int64: H5Scalar { public static var h5Type: H5ElementType { .int64 } }
