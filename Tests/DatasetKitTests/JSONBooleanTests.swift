// JSONBooleanTests: JSONSerialization's booleans are told apart from its numbers, 0 and 1 included.
import AblateSupport
import Foundation
import Testing

@Suite("JSON booleans")
struct JSONBooleanTests {
    @Test func booleansAreToldApartFromNumbers() throws {
        let json = #"{"t": true, "f": false, "zero": 0, "one": 1, "half": 0.5, "float_one": 1.0, "big": 12345678901}"#
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let booleans = object.compactMap { key, value in (value as? NSNumber)?.isJSONBoolean == true ? key : nil }
        #expect(booleans.sorted() == ["f", "t"])
        #expect(object.count == 7)
    }
}
