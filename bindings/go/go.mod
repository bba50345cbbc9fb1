module github.com/diffevent/diffevent/bindings/go

go 1.19
