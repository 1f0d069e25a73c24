// The newest AWS SDK releases of the services kcred pins, to check that the
// pin's reason still holds (pin_test.go). A module of its own, so the
// product module keeps its pinned versions.
module github.com/kcred/kcred/test/sdkpin

go 1.26.0

require (
	github.com/aws/aws-sdk-go-v2/service/ecr v1.69.0
	github.com/aws/aws-sdk-go-v2/service/ecrpublic v1.47.12
)

require (
	github.com/aws/aws-sdk-go-v2 v1.48.0 // indirect
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.12 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.12 // indirect
	github.com/aws/smithy-go v1.28.9 // indirect
)
