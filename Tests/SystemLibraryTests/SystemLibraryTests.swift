import CCurl
import COpenBLAS
import CSQLite
import CXML2
import Testing

/// The system-library wrappers the later stages build on import, link and work (the libxml2 one guards
/// against the ICU header clash that only shows on clean builds).
@Suite struct SystemLibraryTests {
    @Test func libcurlHasTheFeaturesFetchNeeds() throws {
        let info = try #require(imgcls_curl_version_info()).pointee
        #expect(info.features & CURL_VERSION_SSL != 0, "libcurl without TLS")
        #expect(info.features & CURL_VERSION_LIBZ != 0, "libcurl without compressed transfer encodings")
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(imgcls_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 5) == CURLE_OK)
        #expect(imgcls_curl_setopt_string(handle, CURLOPT_USERAGENT, "imgcls-test") == CURLE_OK)
    }

    @Test func libxml2ParsesTolerantHTML() throws {
        let html = "<html><body><img src='a.jpg'><p>unclosed <img data-src=b.png></body>"
        let document = try #require(htmlReadMemory(html, Int32(html.utf8.count), "http://example.test/", nil,
                                                   Int32(HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue)))
        defer { xmlFreeDoc(document) }
        let context = try #require(xmlXPathNewContext(document))
        defer { xmlXPathFreeContext(context) }
        let result = try #require(xmlXPathEvalExpression("//img", context))
        defer { xmlXPathFreeObject(result) }
        #expect(result.pointee.nodesetval.pointee.nodeNr == 2)
    }

    @Test func openBLASMultipliesMatrices() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
        #expect(c == [19, 22, 43, 50])
    }

    @Test func sqliteIsRecentEnoughForUpsertReturning() {
        #expect(sqlite3_libversion_number() >= 3_035_000)
    }
}
