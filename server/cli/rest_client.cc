#include "server/cli/rest_client.h"

#include <curl/curl.h>

#include <memory>

namespace sidestream::cli {

namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct HeadersDeleter {
  void operator()(curl_slist* headers) const { curl_slist_free_all(headers); }
};

size_t Collect(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

// What a streamed transfer needs in libcurl's callbacks.
struct Stream {
  std::string partial;  // the last line, until its newline arrives
  const std::function<void(std::string_view)>* on_line;
  const volatile std::sig_atomic_t* cancelled;
};

size_t StreamLines(char* data, size_t size, size_t count, void* target) {
  auto* stream = static_cast<Stream*>(target);
  stream->partial.append(data, size * count);
  size_t start = 0;
  for (size_t newline; (newline = stream->partial.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    if (newline > start) {
      (*stream->on_line)(std::string_view(stream->partial).substr(start, newline - start));
    }
  }
  stream->partial.erase(0, start);
  return size * count;
}

int CancelOnSignal(void* target, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return *static_cast<Stream*>(target)->cancelled ? 1 : 0;  // non-zero aborts the transfer
}

Result<long> Perform(CURL* curl, const std::string& url) {
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK && code != CURLE_ABORTED_BY_CALLBACK) {
    return Status::Unavailable("cannot reach " + url + ": " + curl_easy_strerror(code));
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

}  // namespace

RestClient::RestClient(std::string base_url) : base_url_(std::move(base_url)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Result<RestClient::Response> RestClient::Get(const std::string& path) const {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  const std::string url = base_url_ + path;
  Response response;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 10000L);
  ASSIGN_OR_RAISE(response.status, Perform(curl.get(), url));
  return response;
}

Result<RestClient::Response> RestClient::PostKsql(const std::string& statements,
                                                  const nlohmann::json& properties) const {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  const std::string url = base_url_ + "/ksql";
  const std::string body =
      nlohmann::json{{"ksql", statements}, {"streamsProperties", properties}}.dump();
  std::unique_ptr<curl_slist, HeadersDeleter> headers(
      curl_slist_append(nullptr, "Content-Type: application/vnd.ksql.v1+json"));
  Response response;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response.body);
  ASSIGN_OR_RAISE(response.status, Perform(curl.get(), url));
  return response;
}

Result<long> RestClient::StreamQuery(const std::string& sql, const nlohmann::json& properties,
                                     const std::function<void(std::string_view line)>& on_line,
                                     const volatile std::sig_atomic_t& cancelled) const {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  const std::string url = base_url_ + "/query-stream";
  const std::string body = nlohmann::json{{"sql", sql}, {"properties", properties}}.dump();
  std::unique_ptr<curl_slist, HeadersDeleter> headers(
      curl_slist_append(nullptr, "Content-Type: application/json"));
  Stream stream{"", &on_line, &cancelled};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, StreamLines);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &stream);
  // The progress callback runs about once a second while idle: it notices Ctrl-C.
  curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, CancelOnSignal);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &stream);
  ASSIGN_OR_RAISE(long status, Perform(curl.get(), url));
  if (!stream.partial.empty()) on_line(stream.partial);
  return status;
}

}  // namespace sidestream::cli
