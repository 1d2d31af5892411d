package ship

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The S3 uploader, on aws-sdk-go-v2 (docs/shipping.md says why that client).
//
// Every upload is a conditional create verified by the store:
//
//   - PutObject with If-None-Match: * and x-amz-checksum-sha256 (the
//     file's SHA-256, computed here before the request): the store refuses
//     bytes that do not match (400 BadDigest) and refuses to overwrite any
//     object already under the key (412 PreconditionFailed);
//   - for files larger than the part size, a multipart upload: each part
//     with its own x-amz-checksum-sha256, and CompleteMultipartUpload with
//     If-None-Match: *;
//   - the object carries x-amz-meta-logroll-sha256, the whole file's
//     SHA-256 in hex. A 412 is answered with a HEAD of the key: the same
//     size and SHA-256 mean an earlier attempt (before a crash or a lost
//     answer) already stored these bytes, and the file is shipped; anything
//     else is a conflict, logged and never overwritten.
//
// The SDK's own retries are off: the manager retries, with its backoff and
// its once-per-streak logging.

// MetaSHA256 is the user metadata key holding the file's SHA-256 in hex
// (x-amz-meta-logroll-sha256).
const MetaSHA256 = "logroll-sha256"

// uploader ships files to one Target.
type uploader struct {
	client   *s3.Client
	target   Target
	partSize int64

	mu         sync.Mutex
	transports []*http.Transport

	// Owned by the manager's run: uploads in flight, and whether a reload
	// replaced the uploader (closed after its last upload).
	inflight int
	retired  bool
}

// newUploader makes the client for t. Credentials come from the
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE, the container variables) or the
// AWS shared files (~/.aws/credentials and ~/.aws/config, or
// AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE): the SDK's default chain
// with the EC2 instance metadata service left out unless
// LOGROLL_SHIP_IMDS=1 (it is a network address, and the contract names the
// environment and the shared files).
func newUploader(ctx context.Context, t Target, partSize int64, conns int, stall time.Duration) (*uploader, error) {
	u := &uploader{target: t, partSize: partSize}
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = max(conns, 2) // one kept-alive connection per upload in flight
		guardStalls(tr, stall)
		u.mu.Lock()
		u.transports = append(u.transports, tr) // the transports built (the SDK clones the client to add a CA bundle)
		u.mu.Unlock()
	})
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(t.Region),
		config.WithRetryMaxAttempts(1),
		config.WithHTTPClient(hc),
	}
	if os.Getenv("LOGROLL_SHIP_IMDS") != "1" {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("ship: AWS configuration for %s: %w", t, err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if t.Endpoint != "" {
			o.BaseEndpoint = aws.String(t.Endpoint)
			o.UsePathStyle = true
		}
	})
	u.client = client
	return u, nil
}

// close closes the uploader's idle connections.
func (u *uploader) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, tr := range u.transports {
		tr.CloseIdleConnections()
	}
}

// Result is what an upload did.
type Result struct {
	// Key is the object's key.
	Key string
	// Already is true when the object was there with the same bytes (a 412
	// answered by an earlier attempt's upload).
	Already bool
	// Multipart says the file went in parts.
	Multipart bool
}

// upload ships it under key. A returned error is a *Failure.
func (u *uploader) upload(ctx context.Context, it Item, key string) (Result, error) {
	res := Result{Key: key}
	f, err := os.Open(it.Path)
	if err != nil {
		return res, &Failure{Kind: KindLocal, Err: fmt.Errorf("open %s: %w", it.Path, err)}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return res, &Failure{Kind: KindLocal, Err: fmt.Errorf("stat %s: %w", it.Path, err)}
	}
	size := fi.Size()
	var parts [][]byte // SHA-256 of each part
	whole := sha256.New()
	if size > u.partSize {
		for off := int64(0); off < size; off += u.partSize {
			h := sha256.New()
			if _, err := io.Copy(io.MultiWriter(h, whole), io.NewSectionReader(f, off, min(u.partSize, size-off))); err != nil {
				return res, &Failure{Kind: KindLocal, Err: fmt.Errorf("read %s: %w", it.Path, err)}
			}
			parts = append(parts, h.Sum(nil))
		}
	} else if _, err := io.Copy(whole, io.NewSectionReader(f, 0, size)); err != nil {
		return res, &Failure{Kind: KindLocal, Err: fmt.Errorf("read %s: %w", it.Path, err)}
	}
	sum := whole.Sum(nil)
	meta := map[string]string{
		MetaSHA256:      hex.EncodeToString(sum),
		"logroll-start": it.Start.UTC().Format(time.RFC3339),
		"logroll-end":   it.End.UTC().Format(time.RFC3339),
	}
	if parts == nil {
		var po *s3.PutObjectOutput
		po, err = u.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:         aws.String(u.target.Bucket),
			Key:            aws.String(key),
			Body:           io.NewSectionReader(f, 0, size),
			ContentLength:  aws.Int64(size),
			ContentType:    aws.String(contentType(it.Name)),
			ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
			IfNoneMatch:    aws.String("*"),
			Metadata:       meta,
		}, withPayloadHash(sum))
		if err == nil {
			err = u.stored("PutObject", key, po.ETag, po.ChecksumSHA256, base64.StdEncoding.EncodeToString(sum))
		}
	} else {
		// A retry after a lost answer to CompleteMultipartUpload would send
		// every part again before its 412: a HEAD first finds the object.
		if found, same, herr := u.head(ctx, key, size, meta[MetaSHA256]); herr == nil && found {
			if !same {
				return res, u.conflict(key)
			}
			res.Already = true
			return res, nil
		}
		res.Multipart = true
		err = u.multipart(ctx, f, size, key, it.Name, parts, meta)
	}
	if err == nil {
		return res, nil
	}
	if status(err) == http.StatusPreconditionFailed {
		same, herr := u.same(ctx, key, size, meta[MetaSHA256])
		switch {
		case herr != nil:
			return res, herr
		case same:
			res.Already = true
			return res, nil
		}
		return res, u.conflict(key)
	}
	return res, failure(err, "upload")
}

// conflict is the failure of a key that holds other bytes.
func (u *uploader) conflict(key string) *Failure {
	return &Failure{Kind: KindConflict, Status: http.StatusPreconditionFailed, Code: "PreconditionFailed",
		Err: fmt.Errorf("s3://%s/%s already holds other bytes (size or %s differs): not overwritten", u.target.Bucket, key, MetaSHA256)}
}

// multipart uploads f in parts of u.partSize with their checksums, and
// completes the upload only if no object has the key; a failure aborts the
// upload (best effort: an upload a crash left behind is removed by the
// bucket's AbortIncompleteMultipartUpload lifecycle rule, docs/shipping.md).
func (u *uploader) multipart(ctx context.Context, f *os.File, size int64, key, name string, sums [][]byte, meta map[string]string) error {
	cr, err := u.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(u.target.Bucket),
		Key:               aws.String(key),
		ContentType:       aws.String(contentType(name)),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		Metadata:          meta,
	})
	if err != nil {
		return err
	}
	if aws.ToString(cr.UploadId) == "" {
		return u.notAStore("CreateMultipartUpload", key, "an upload id")
	}
	id := cr.UploadId
	done := false
	defer func() {
		if !done {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_, _ = u.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(u.target.Bucket), Key: aws.String(key), UploadId: id})
		}
	}()
	completed := make([]types.CompletedPart, 0, len(sums))
	for i, sum := range sums {
		off := int64(i) * u.partSize
		n := min(u.partSize, size-off)
		b64 := base64.StdEncoding.EncodeToString(sum)
		pr, err := u.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:         aws.String(u.target.Bucket),
			Key:            aws.String(key),
			UploadId:       id,
			PartNumber:     aws.Int32(int32(i + 1)),
			Body:           io.NewSectionReader(f, off, n),
			ContentLength:  aws.Int64(n),
			ChecksumSHA256: aws.String(b64),
		}, withPayloadHash(sum))
		if err == nil {
			err = u.stored("UploadPart", key, pr.ETag, pr.ChecksumSHA256, b64)
		}
		if err != nil {
			return err
		}
		completed = append(completed, types.CompletedPart{ETag: pr.ETag, PartNumber: aws.Int32(int32(i + 1)), ChecksumSHA256: aws.String(b64)})
	}
	co, err := u.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(u.target.Bucket),
		Key:             aws.String(key),
		UploadId:        id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
		IfNoneMatch:     aws.String("*"),
	})
	if err == nil {
		// The whole object's checksum is one of the parts' checksums: not
		// compared, the parts' were.
		err = u.stored("CompleteMultipartUpload", key, co.ETag, nil, "")
	}
	done = err == nil
	return err
}

// notAStore is the failure of an answer without what every S3 store sends
// (what): permanent until a reload, nothing known stored.
func (u *uploader) notAStore(op, key, what string) *Failure {
	code := "NoETag"
	if what != "an ETag" {
		code = "NotS3"
	}
	return &Failure{Kind: KindRefused, Status: http.StatusOK, Code: code,
		Err: fmt.Errorf("%s s3://%s/%s: answered without %s, which every S3 store sends: nothing is known stored (is ship_endpoint an S3 store?)", op, u.target.Bucket, key, what)}
}

// stored checks the answer of a request that stored bytes under key (or
// of a HEAD that found an object). An S3 store names an object with an
// ETag, always; one that checks
// checksums echoes the one sent (sent, base64), and that echo must be it.
// An answer without an ETag comes from something that is not an S3 store
// (a typo in ship_endpoint reaching a web server or a load balancer that
// answers 200 to anything): nothing is known stored, so the file is not
// shipped, and the failure is permanent until a reload.
func (u *uploader) stored(op, key string, etag, echoed *string, sent string) error {
	if aws.ToString(etag) == "" {
		return u.notAStore(op, key, "an ETag")
	}
	if e := aws.ToString(echoed); e != "" && sent != "" && e != sent {
		return &Failure{Kind: KindRefused, Status: http.StatusOK, Code: "ChecksumMismatch",
			Err: fmt.Errorf("%s s3://%s/%s: the store reports x-amz-checksum-sha256 %s for what it stored, not the %s sent", op, u.target.Bucket, key, e, sent)}
	}
	return nil
}

// same reports whether the object under key has size bytes and the SHA-256
// sum (hex) in its metadata.
func (u *uploader) same(ctx context.Context, key string, size int64, sum string) (bool, error) {
	found, same, err := u.head(ctx, key, size, sum)
	if err == nil && !found {
		// Gone between the 412 and the HEAD: try again.
		return false, &Failure{Kind: KindServer, Status: http.StatusNotFound, Err: fmt.Errorf("s3://%s/%s: 412, then not found", u.target.Bucket, key)}
	}
	return same, err
}

// head reports whether an object is under key, and whether it has size
// bytes and the SHA-256 sum (hex) in its metadata.
func (u *uploader) head(ctx context.Context, key string, size int64, sum string) (found, same bool, err error) {
	h, err := u.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(u.target.Bucket), Key: aws.String(key)})
	if err != nil {
		if status(err) == http.StatusNotFound {
			return false, false, nil
		}
		return false, false, failure(err, "head")
	}
	if err := u.stored("HeadObject", key, h.ETag, nil, ""); err != nil {
		return false, false, err // not an S3 store: found nothing, conflicts with nothing
	}
	return true, aws.ToInt64(h.ContentLength) == size && strings.EqualFold(h.Metadata[MetaSHA256], sum), nil
}

// status returns the HTTP status of an SDK error, 0 when there is none.
func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// failure turns an SDK error into a *Failure of the right kind.
func failure(err error, op string) error {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	st := status(err)
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	kind := KindNetwork
	if st != 0 {
		kind = Classify(st, code)
	}
	return &Failure{Kind: kind, Status: st, Code: code, Err: fmt.Errorf("%s: %w", op, err)}
}

// contentType is the object's Content-Type, from the name's suffix.
func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".gz"):
		return "application/gzip"
	case strings.HasSuffix(name, ".zst"):
		return "application/zstd"
	}
	return "text/plain; charset=utf-8"
}

// withPayloadHash gives the request's SigV4 signer the body's SHA-256,
// which upload computed already: over plain HTTP the SDK signs the payload
// and would read the body once more to hash it (over HTTPS it sends
// UNSIGNED-PAYLOAD, and this changes nothing).
func withPayloadHash(sum []byte) func(*s3.Options) {
	h := hex.EncodeToString(sum)
	return s3.WithAPIOptions(func(st *middleware.Stack) error {
		return st.Finalize.Insert(payloadHash(h), "ComputePayloadHash", middleware.Before)
	})
}

// payloadHash is the Finalize middleware of withPayloadHash.
type payloadHash string

func (payloadHash) ID() string { return "LogrollPayloadHash" }

func (p payloadHash) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if req, ok := in.Request.(*smithyhttp.Request); ok && !req.IsHTTPS() {
		ctx = v4.SetPayloadHash(ctx, string(p))
	}
	return next.HandleFinalize(ctx, in)
}
